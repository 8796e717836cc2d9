/**
 * Bad catalogs fail with clear errors (file, field, reason) and nothing is executed: an unknown column,
 * an identifier trick, a missing connection variable; and `upshift catalog lint` exits 2 listing them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogError, isMigrationError, lintCatalog, loadCatalog, migrationByRef, openEngine, runCatalogLintCommand } from '../src/index.ts';
import { ordersMigrationYaml, writeCatalog } from './helpers/catalog.ts';
import { checksum, createTestDatabase, seedOrders } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';

let db: TestDatabase;
const tableSql = `SELECT * FROM orders`;
let before_: string;

before(async () => {
  db = await createTestDatabase('catalog');
  await seedOrders(db.client, 1000);
  before_ = await checksum(db.client, tableSql);
});

after(async () => {
  await db?.drop();
});

async function nothingExecuted(): Promise<void> {
  assert.equal(await checksum(db.client, tableSql), before_, 'orders unchanged');
  const columns = await db.client.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'amount_minor'`);
  assert.equal(columns.rowCount, 0, 'no column added');
  const backup = await db.client.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'upshift_backup'`);
  assert.equal(backup.rowCount, 0, 'no backup schema created');
}

test('an unknown column is reported by preflight with file, field and reason, and nothing runs', async () => {
  const catalog = writeCatalog({ 'typo@1.yaml': ordersMigrationYaml({ name: 'typo', table: 'orders', extraSet: { amount_minr: 'amount * 100' } }) });
  const unknownInExpression = writeCatalog({ 'expr@1.yaml': ordersMigrationYaml({ name: 'expr', table: 'orders', extraSet: { note: 'upper(note_text)' } }) });
  try {
    assert.deepEqual(lintCatalog(catalog.dir), [], 'statically fine: only the real table can tell');
    const engine = openEngine(migrationByRef(loadCatalog(catalog.dir), 'typo@1'), { TEST_DATABASE_URL: db.url });
    assert.deepEqual(await engine.preflight(), [{ path: 'backfill.set.amount_minr', message: 'column amount_minr does not exist in public.orders and expand does not add it' }]);
    await engine.close();
    const engine2 = openEngine(migrationByRef(loadCatalog(unknownInExpression.dir), 'expr@1'), { TEST_DATABASE_URL: db.url });
    const problems = await engine2.preflight();
    await engine2.close();
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path, 'backfill.set.note');
    assert.match(problems[0]?.message ?? '', /column "note_text" does not exist/);
    const lines: string[] = [];
    const code = await runCatalogLintCommand([catalog.dir, '--connect'], { stdout: () => undefined, stderr: (line) => lines.push(line), env: { TEST_DATABASE_URL: db.url } });
    assert.equal(code, 2);
    assert.match(lines.join('\n'), /typo@1\.yaml: backfill\.set\.amount_minr: column amount_minr does not exist/);
    await nothingExecuted();
  } finally {
    catalog.remove();
    unknownInExpression.remove();
  }
});

test('an identifier trick is refused when the catalog loads, naming file and field', async () => {
  const tricky = ordersMigrationYaml({ name: 'tricky', table: 'orders' })
    .replace('table: orders', 'table: "orders; DROP TABLE x"')
    .replace('  set:\n', '  set:\n    "note = null; DROP TABLE orders; --": "1"\n');
  const catalog = writeCatalog({ 'tricky@1.yaml': tricky, 'sneaky@1.yaml': ordersMigrationYaml({ name: 'sneaky', table: 'orders', extraSet: { note: "'x'); DROP TABLE orders; --" } }) });
  try {
    const problems = lintCatalog(catalog.dir);
    const lines = problems.map((problem) => `${problem.file.split('/').at(-1)}: ${problem.path}: ${problem.message}`);
    assert.ok(lines.some((line) => line.startsWith('tricky@1.yaml: table: must be a lowercase SQL identifier')), lines.join('\n'));
    assert.ok(lines.some((line) => line.startsWith('tricky@1.yaml: backfill.set.note = null; DROP TABLE orders; --: key must be a lowercase SQL identifier')), lines.join('\n'));
    assert.ok(lines.some((line) => line.startsWith('sneaky@1.yaml: backfill.set.note: must be a single expression')), lines.join('\n'));
    assert.throws(() => loadCatalog(catalog.dir), (error: unknown) => error instanceof CatalogError && error.problems.length === problems.length);
    const out: string[] = [];
    assert.equal(await runCatalogLintCommand([catalog.dir], { stdout: () => undefined, stderr: (line) => out.push(line), env: {} }), 2);
    assert.equal(out.length, problems.length);
    await nothingExecuted();
  } finally {
    catalog.remove();
  }
});

test('a missing connection variable names the variable and the file, and nothing runs', async () => {
  const catalog = writeCatalog({ 'orders@1.yaml': ordersMigrationYaml({ name: 'orders', table: 'orders' }) });
  try {
    const migration = migrationByRef(loadCatalog(catalog.dir), 'orders@1');
    assert.throws(() => openEngine(migration, {}), (error: unknown) =>
      isMigrationError(error, 'CONNECTION_MISSING') && /TEST_DATABASE_URL is not set/.test(error.message) && error.message.includes('orders@1.yaml'));
    const lines: string[] = [];
    assert.equal(await runCatalogLintCommand([catalog.dir, '--connect'], { stdout: () => undefined, stderr: (line) => lines.push(line), env: {} }), 2);
    assert.match(lines.join('\n'), /orders@1\.yaml: connection: .*TEST_DATABASE_URL is not set/);
    await nothingExecuted();
  } finally {
    catalog.remove();
  }
});

test('the example catalog lints clean, its migrations fit the demo tables, and read-only calls create nothing', async () => {
  const dir = fileURLToPath(new URL('../../examples/catalog', import.meta.url));
  assert.deepEqual(lintCatalog(dir), []);
  const lines: string[] = [];
  assert.equal(await runCatalogLintCommand([dir], { stdout: (line) => lines.push(line), stderr: (line) => lines.push(line), env: {} }), 0);
  assert.match(lines.join('\n'), /2 migration\(s\), no problems/);
  const orders = migrationByRef(loadCatalog(dir), 'orders-currency@1');
  const engine = openEngine(orders, { SHOP_DATABASE_URL: db.url });
  assert.deepEqual(await engine.preflight(), []);
  assert.equal(await engine.countRemaining(), 1000, 'verify-style reads work before expand');
  assert.ok((await engine.estimateCount()) > 0);
  await engine.close();
  await nothingExecuted();
});

test('down: a bad conflict rule, a down.set on the marker or the key, and an unknown column are each named by field; nothing runs', async () => {
  const withDown = (name: string, down: string) => `${ordersMigrationYaml({ name, table: 'orders' })}down:\n${down}`;
  const statically = writeCatalog({
    'rule@1.yaml': withDown('rule', '  conflicts: newest-wins\n'),
    'marker@1.yaml': withDown('marker', '  set: { schema_version: "1" }\n'),
    'key@1.yaml': withDown('key', '  set: { id: "id + 1" }\n'),
    'injection@1.yaml': withDown('injection', '  set: { amount: "1; DROP TABLE orders" }\n'),
  });
  const unknownColumn = writeCatalog({ 'unknown@1.yaml': withDown('unknown', '  set: { amount: "amount_major / 100.0" }\n') });
  try {
    const problems = lintCatalog(statically.dir).map((problem) => `${problem.file.split('/').pop()}: ${problem.path}`);
    assert.deepEqual(problems.sort(), ['injection@1.yaml: down.set.amount', 'key@1.yaml: down.set.id', 'marker@1.yaml: down.set.schema_version', 'rule@1.yaml: down.conflicts']);
    const engine = openEngine(migrationByRef(loadCatalog(unknownColumn.dir), 'unknown@1'), { TEST_DATABASE_URL: db.url });
    const found = await engine.preflight();
    await engine.close();
    assert.deepEqual(found.map((problem) => problem.path), ['down.set.amount']);
    assert.match(found[0]?.message ?? '', /column "amount_major" does not exist/);
    await nothingExecuted();
  } finally {
    statically.remove();
    unknownColumn.remove();
  }
});
