/**
 * Catalog SQL cannot escape (issue 16), against the real PostgreSQL: the attack strings are live under
 * the simple protocol the engine used to send; the catalog refuses them; one that slipped past the
 * catalog still cannot run a second statement (every statement goes through the extended protocol);
 * plan's and verify's sessions are read-only at the server (25006); composite and missing primary keys
 * are named by table.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { isMigrationError, lintCatalog, loadCatalog, migrationByRef, openEngine, runCatalogLintCommand } from '../src/index.ts';
import type { PostgresMigration } from '../src/index.ts';
import { sessionConnection } from '../src/postgres/session.ts';
import { ordersMigrationYaml, writeCatalog } from './helpers/catalog.ts';
import { checksum, createTestDatabase, seedOrders } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';

/** The invariant that made verify's read-only check drop a table before issue 16. */
const invariantAttack = String.raw`SELECT E'\'' ; COMMIT ; DROP TABLE orders ; SELECT E'\''`;
/** The `set:` expression of the same shape that made plan's preflight delete rows. */
const setAttack = String.raw`E'\'') AS text) ; COMMIT ; DELETE FROM orders ; SELECT CAST((E'\''`;

let db: TestDatabase;
let ordersBefore: string;
let loaded: PostgresMigration;
const catalog = writeCatalog({ 'orders@1.yaml': ordersMigrationYaml({ name: 'orders', table: 'orders' }) });

before(async () => {
  db = await createTestDatabase('sqlguard');
  await seedOrders(db.client, 200);
  ordersBefore = await checksum(db.client, 'SELECT * FROM orders');
  loaded = migrationByRef(loadCatalog(catalog.dir), 'orders@1') as PostgresMigration;
});

after(async () => {
  catalog.remove();
  await db?.drop();
});

const env = () => ({ TEST_DATABASE_URL: db.url });

async function ordersUntouched(): Promise<void> {
  const { rows } = await db.client.query<{ exists: boolean }>(`SELECT to_regclass('public.orders') IS NOT NULL AS exists`);
  assert.equal(rows[0]?.exists, true, 'orders still exists');
  assert.equal(await checksum(db.client, 'SELECT * FROM orders'), ordersBefore, 'no row of orders changed or deleted');
}

function sqlStateOf(error: unknown): unknown {
  return (error as { cause?: { code?: unknown } }).cause?.code;
}

test('the attack strings are live under the simple protocol: a read-only transaction is committed, then a table dropped and rows deleted', async () => {
  await db.client.query('CREATE TABLE victim AS SELECT * FROM orders');
  await db.client.query('BEGIN READ ONLY');
  await db.client.query(`SELECT CAST((${setAttack.replace('orders', 'victim')}) AS text) FROM (SELECT * FROM victim) AS victim LIMIT 0`);
  assert.equal((await db.client.query('SELECT count(*)::integer AS n FROM victim')).rows[0]?.n, 0, 'the set: shape deleted every row');
  await db.client.query('BEGIN READ ONLY');
  await db.client.query(invariantAttack.replace('orders', 'victim'));
  const { rows } = await db.client.query<{ exists: boolean }>(`SELECT to_regclass('public.victim') IS NOT NULL AS exists`);
  assert.equal(rows[0]?.exists, false, 'the invariant shape dropped the table');
});

test('the catalog refuses both attack strings: lint (with --connect) names file and field, load fails, nothing runs', async () => {
  const attacks = writeCatalog({
    'invariant@1.yaml': `${ordersMigrationYaml({ name: 'invariant', table: 'orders' })}invariants:\n  - { name: harmless, sql: ${JSON.stringify(invariantAttack)} }\n`,
    'set@1.yaml': ordersMigrationYaml({ name: 'set', table: 'orders', extraSet: { note: setAttack } }),
  });
  try {
    assert.deepEqual(lintCatalog(attacks.dir).map((problem) => problem.path), ['invariants[0].sql', 'backfill.set.note']);
    const lines: string[] = [];
    assert.equal(await runCatalogLintCommand([attacks.dir, '--connect'], { stdout: () => undefined, stderr: (line) => lines.push(line), env: env() }), 2);
    assert.match(lines.join('\n'), /invariant@1\.yaml: invariants\[0\]\.sql: must be one SELECT statement: ";" is not allowed/);
    assert.match(lines.join('\n'), /set@1\.yaml: backfill\.set\.note: must be a single expression: unbalanced "\)"/);
    assert.throws(() => loadCatalog(attacks.dir), /invalid migration catalog/);
    await ordersUntouched();
  } finally {
    attacks.remove();
  }
});

test('an invariant that slipped past the catalog cannot run a second statement: the check fails with 42601, nothing is dropped', async () => {
  const smuggled: PostgresMigration = { ...loaded, invariants: [{ name: 'smuggled', sql: invariantAttack, expect: 0 }] };
  for (const readOnly of [false, true]) {
    const engine = openEngine(smuggled, env(), { poolSize: 1, readOnly });
    try {
      await assert.rejects(engine.checkInvariants(), (error: unknown) =>
        isMigrationError(error, 'STORE_REJECTED') && sqlStateOf(error) === '42601' && /cannot insert multiple commands into a prepared statement/.test(error.message));
    } finally {
      await engine.close();
    }
    await ordersUntouched();
  }
});

test('a set: expression that slipped past the catalog cannot run a second statement: preflight reports it, no row is deleted', async () => {
  const smuggled: PostgresMigration = { ...loaded, backfill: { ...loaded.backfill, set: { ...loaded.backfill.set, note: setAttack } } };
  for (const readOnly of [false, true]) {
    const engine = openEngine(smuggled, env(), { poolSize: 1, readOnly });
    try {
      const problems = await engine.preflight();
      assert.deepEqual(problems.map((problem) => problem.path), ['backfill.set.note']);
      assert.match(problems[0]?.message ?? '', /cannot insert multiple commands into a prepared statement/);
    } finally {
      await engine.close();
    }
    await ordersUntouched();
  }
});

test('read-only engines (plan, verify, lint --connect) read as before, and any write through their sessions fails with 25006', async () => {
  const engine = openEngine(loaded, env(), { poolSize: 1, readOnly: true });
  try {
    assert.deepEqual(await engine.preflight(), []);
    assert.equal(await engine.countRemaining(), 200);
    assert.ok((await engine.estimateCount()) > 0);
    await assert.rejects(engine.expand('run-1'), (error: unknown) => isMigrationError(error, 'STORE_REJECTED') && sqlStateOf(error) === '25006');
    await assert.rejects(engine.runBatch({ range: { start: null, end: null }, after: null, ceiling: null, batchSize: 10, backup: true }),
      (error: unknown) => isMigrationError(error) && sqlStateOf(error) === '25006');
  } finally {
    await engine.close();
  }
  await ordersUntouched();
  const added = await db.client.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'amount_minor'`);
  assert.equal(added.rowCount, 0, 'expand added no column');
  const backup = await db.client.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'upshift_backup'`);
  assert.equal(backup.rowCount, 0, 'no backup schema was created');
});

test('session settings survive an options parameter of the URL: both apply, and the session refuses writes', async () => {
  const url = new URL(db.url);
  url.searchParams.set('options', '-c statement_timeout=4321');
  const client = new pg.Client(sessionConnection(url.toString(), true));
  await client.connect();
  try {
    const setting = async (name: string) => (await client.query<{ value: string }>('SELECT current_setting($1) AS value', [name])).rows[0]?.value;
    assert.equal(await setting('statement_timeout'), '4321ms');
    assert.equal(await setting('default_transaction_read_only'), 'on');
    assert.equal(await setting('standard_conforming_strings'), 'on');
    await assert.rejects(client.query('DELETE FROM orders'), (error: unknown) => (error as { code?: string }).code === '25006');
  } finally {
    await client.end();
  }
  await ordersUntouched();
});

test('composite and missing primary keys are named by table at lint --connect and when an engine reads the table', async () => {
  await db.client.query(`CREATE TABLE order_lines (order_id bigint, line_no integer, qty integer, schema_version integer NOT NULL DEFAULT 1, PRIMARY KEY (order_id, line_no))`);
  await db.client.query(`CREATE TABLE audit_log (id bigint NOT NULL, note text, schema_version integer NOT NULL DEFAULT 1)`);
  const entry = (name: string, table: string, key: string) => `apiVersion: upshift.dev/v1alpha1
kind: Migration
name: ${name}
version: 1
store: postgres
connection: TEST_DATABASE_URL
table: ${table}
key: ${key}
marker: { column: schema_version, from: 1, to: 2 }
backfill:
  set: { ${table === 'order_lines' ? 'qty' : 'note'}: "NULL" }
`;
  const keys = writeCatalog({ 'lines@1.yaml': entry('lines', 'order_lines', 'order_id'), 'audit@1.yaml': entry('audit', 'audit_log', 'id') });
  try {
    const lines: string[] = [];
    assert.equal(await runCatalogLintCommand([keys.dir, '--connect'], { stdout: () => undefined, stderr: (line) => lines.push(line.split('/').at(-1) ?? line), env: env() }), 2);
    assert.deepEqual(lines, [
      'audit@1.yaml: key: table public.audit_log has no primary key; upshift pages over a single-column primary key',
      'lines@1.yaml: key: table public.order_lines has a composite primary key (order_id, line_no); upshift pages over a single-column key',
    ]);
    const engine = openEngine(migrationByRef(loadCatalog(keys.dir), 'lines@1'), env(), { poolSize: 1, readOnly: true });
    try {
      await assert.rejects(engine.estimateCount(), (error: unknown) => isMigrationError(error, 'PREFLIGHT_FAILED')
        && error.message === 'lines@1: key: table public.order_lines has a composite primary key (order_id, line_no); upshift pages over a single-column key');
    } finally {
      await engine.close();
    }
  } finally {
    keys.remove();
  }
});

test('a read-write engine still runs every phase under the extended protocol (CREATE INDEX CONCURRENTLY included)', async () => {
  const examples = loadCatalog(fileURLToPath(new URL('../../examples/catalog', import.meta.url)));
  const engine = openEngine(migrationByRef(examples, 'orders-currency@1'), { SHOP_DATABASE_URL: db.url }, { poolSize: 1 });
  try {
    await engine.expand('run-extended');
    const batch = await engine.runBatch({ range: { start: null, end: null }, after: null, ceiling: null, batchSize: 500, backup: true });
    assert.equal(batch.changed, 200);
    assert.deepEqual((await engine.checkInvariants()).map((invariant) => invariant.ok), [true, true]);
  } finally {
    await engine.close();
  }
  const { rows } = await db.client.query<{ valid: boolean }>(`SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = 'public.orders_currency_idx'::regclass`);
  assert.equal(rows[0]?.valid, true, 'the index was built concurrently and is valid');
});
