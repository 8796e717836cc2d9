/**
 * The PostgreSQL engine with the application writing all the time (about 200 writes/s, every one in
 * a ledger): a backfill overwrites no write, and a rollback after the migration keeps every write the
 * application made since — columns the migration never touched always, migrated columns as
 * `down.conflicts` says, each conflict reported by key and column — while rows nobody wrote come back
 * exactly as they were before the run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadCatalog, migrationByRef, openEngine } from '../src/index.ts';
import type { MigrationEngine, RestoreResult } from '../src/index.ts';
import { writeCatalog } from './helpers/catalog.ts';
import { lastWrites, startOrdersWriter } from './helpers/orders-writer.ts';
import type { OrdersWriter } from './helpers/orders-writer.ts';
import { checksum, createTestDatabase, seedOrders } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';
import { migrateAllShards, migrateBesideWriter } from './helpers/shards.ts';

const rows = 20_000;
const columns = 'id, customer_id, amount, note, created_at, schema_version, amount_minor, currency';
const example = readFileSync(fileURLToPath(new URL('../../examples/catalog/orders-currency@1.yaml', import.meta.url)), 'utf8');
const catalog = writeCatalog({
  'orders-currency@1.yaml': example.replace('connection: SHOP_DATABASE_URL', 'connection: TEST_DATABASE_URL'),
  'orders-restore@1.yaml': example.replace('connection: SHOP_DATABASE_URL', 'connection: TEST_DATABASE_URL')
    .replace('name: orders-currency', 'name: orders-restore').replace('conflicts: keep-current', 'conflicts: restore'),
});
let db: TestDatabase;

before(async () => { db = await createTestDatabase('live'); });
after(async () => {
  await db?.drop();
  catalog.remove();
});

const randomId = () => 1 + Math.floor(Math.random() * rows);

async function freshOrders(): Promise<void> {
  await db.client.query('DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS orders_before; DROP SCHEMA IF EXISTS upshift_backup CASCADE; DROP FUNCTION IF EXISTS slow_update CASCADE');
  await seedOrders(db.client, rows);
}

function engineFor(ref: string): MigrationEngine {
  return openEngine(migrationByRef(loadCatalog(catalog.dir), ref), { TEST_DATABASE_URL: db.url });
}

/** Every ledger write still holds: updated columns have their last value, deleted rows are gone, inserted rows exist. */
async function assertLedgerKept(writer: OrdersWriter, skip: (id: number, column: string) => boolean = () => false): Promise<number> {
  const { values, deleted, inserted } = lastWrites(writer.ledger);
  const current = new Map((await db.client.query<{ id: string; note: string; amount: string | null; amount_minor: string | null }>(
    'SELECT id, note, amount::text, amount_minor::text FROM orders')).rows.map((row) => [Number(row.id), row]));
  let checked = 0;
  for (const { id, column, value } of values.values()) {
    if (deleted.has(id) || skip(id, column)) continue;
    const row = current.get(id) as Record<string, string | null> | undefined;
    assert.equal(row?.[column], value, `the application's write of ${column} = ${value} on row ${id} is kept`);
    checked += 1;
  }
  for (const id of deleted) assert.ok(!current.has(id), `row ${id}, deleted by the application, stays deleted`);
  for (const id of inserted.keys()) assert.ok(deleted.has(id) || current.has(id), `row ${id}, inserted by the application, is there`);
  return checked;
}

test('a backfill under 200 writes/s overwrites none of them and migrates every row that existed before', async () => {
  await freshOrders();
  const engine = engineFor('orders-currency@1');
  try {
    await engine.expand('run-backfill');
    // Updates cost 0.2 ms a row here (a trigger), so the backfill lasts seconds and meets the writer often.
    await db.client.query(`CREATE FUNCTION slow_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.0002); RETURN NEW; END $$;
      CREATE TRIGGER orders_slow BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION slow_update()`);
    const ranges = await engine.splitShards(4);
    const writer = startOrdersWriter({ url: db.url, mix: { note: 4, amount: 4, 'insert-v1': 2 }, existingIds: randomId, firstNewId: rows + 1 });
    const { seconds, throttles } = await migrateBesideWriter(engine, ranges, writer);
    process.stdout.write(`# backfill of ${rows} rows in ${seconds.toFixed(1)} s beside ${writer.ledger.length} application writes; ${throttles} batches retried smaller after meeting one\n`);
    assert.deepEqual(writer.failures, [], 'no application write failed');
    assert.ok(writer.ledger.length >= 300, `the application wrote throughout the backfill (${writer.ledger.length})`);
    const { rows: left } = await db.client.query<{ n: number }>('SELECT count(*)::integer AS n FROM orders WHERE id <= $1 AND schema_version <> 2', [rows]);
    assert.equal(left[0]?.n, 0, 'every pre-existing row is migrated');
    // A row the application changed after its batch read it was never written from the older read:
    // the migrated amount_minor equals the amount the row holds wherever the migration ran last.
    const { rows: stale } = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM orders o JOIN upshift_backup.orders__orders_currency__v1 b USING (id)
      WHERE o.amount_minor IS DISTINCT FROM b.amount_minor__written`);
    assert.equal(stale[0]?.n, 0, 'the backup records exactly what the migration wrote');
    assert.ok(await assertLedgerKept(writer) > 0);
  } finally {
    await engine.close();
  }
});

/**
 * Migrates quietly, then the application (now the new version) writes while a later stage fails and
 * the rollback runs: notes (never migrated), amount_minor (migrated), new orders at the new version,
 * deletions. Returns the restore's results and the writer.
 */
async function migrateThenRollBack(ref: string, options: { writeDuringRestore: boolean }): Promise<{ results: RestoreResult[]; writer: OrdersWriter; engine: MigrationEngine }> {
  await freshOrders();
  await db.client.query(`CREATE TABLE orders_before AS SELECT ${columns.replace(', amount_minor, currency', '')} FROM orders`);
  const engine = engineFor(ref);
  await engine.expand('run-rollback');
  const ranges = await engine.splitShards(4);
  await migrateAllShards(engine, ranges, { concurrency: 4 });
  const beforeFailure = startOrdersWriter({ url: db.url, mix: { note: 4, amount_minor: 3, 'insert-v2': 2, delete: 1 }, existingIds: randomId, firstNewId: rows + 1 });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await beforeFailure.stop();
  // During the restore the application keeps updating and deleting (orders it creates then are the next run's: see migrations/README).
  const during = options.writeDuringRestore ? startOrdersWriter({ url: db.url, mix: { note: 4, amount_minor: 3, delete: 1 }, existingIds: randomId, firstNewId: 0 }) : undefined;
  const results = await Promise.all(ranges.map((range, index) => engine.restoreShard(range, { runId: 'run-rollback', shardId: `run-rollback:${ref}:${index}` })))
    .finally(() => during?.stop());
  const writer = { ledger: [...beforeFailure.ledger, ...(during?.ledger ?? [])], failures: [...beforeFailure.failures, ...(during?.failures ?? [])], stop: async () => undefined };
  return { results, writer, engine };
}

/** Rows of the ledger whose migrated column the application changed while the migration's value was still there. */
function conflictWrites(writer: OrdersWriter): Map<number, string> {
  const { values, deleted } = lastWrites(writer.ledger);
  return new Map([...values.values()].filter((write) => write.column === 'amount_minor' && !deleted.has(write.id)).map((write) => [write.id, write.value]));
}

async function findings(kind: string): Promise<Array<{ key: string; column_name: string; decision: string; written: unknown; found: unknown }>> {
  return (await db.client.query(`SELECT key, column_name, decision, written, found FROM upshift_backup.upshift_conflicts WHERE kind = $1 ORDER BY key::bigint`, [kind])).rows;
}

test('a rollback while the application writes keeps every write; conflicts on migrated columns stay and are reported by key', async () => {
  const { results, writer, engine } = await migrateThenRollBack('orders-currency@1', { writeDuringRestore: true });
  try {
    const total = (field: 'restored' | 'conflicts' | 'created' | 'createdReverted') => results.reduce((sum, result) => sum + result[field], 0);
    process.stdout.write(`# rollback beside ${writer.ledger.length} application writes: ${total('restored')} rows restored, ${total('conflicts')} conflicts, ${total('created')} created (${total('createdReverted')} reverted)\n`);
    assert.deepEqual(writer.failures, []);
    const { deleted, inserted } = lastWrites(writer.ledger);
    const changed = conflictWrites(writer);
    assert.ok(changed.size > 10 && deleted.size > 0 && inserted.size > 0, 'the application changed migrated columns, deleted and inserted rows');

    // (a) and (b): every application write is still there (keep-current), whenever it was made.
    assert.ok(await assertLedgerKept(writer) >= changed.size);
    // Each write to amount_minor made before the restore reached its row is a conflict naming the key, the value written and the one found.
    // A row the application deleted after the restore reported it counts too (it held the application's value when the restore read it).
    const amountWritten = new Set(writer.ledger.filter((entry) => entry.kind === 'amount_minor').map((entry) => entry.id));
    const reported = new Map((await findings('changed')).map((finding) => [Number(finding.key), finding]));
    assert.ok(reported.size > 0 && reported.size <= amountWritten.size, `conflicts reported: ${reported.size} of ${amountWritten.size} rows whose amount_minor the application wrote`);
    for (const [id, finding] of reported) {
      assert.equal(finding.column_name, 'amount_minor');
      assert.equal(finding.decision, 'kept');
      assert.ok(amountWritten.has(id), `a reported conflict (row ${id}) is a row whose amount_minor the application wrote`);
      assert.notEqual(String(finding.found), String(finding.written));
    }
    assert.equal(total('conflicts'), reported.size + (await findings('deleted')).length, 'the results count every finding once');
    // Deleted rows stay deleted and are reported; rows the new version created are brought back to the old form.
    assert.ok((await findings('deleted')).every((finding) => deleted.has(Number(finding.key))));
    const created = await findings('created');
    assert.equal(created.length, inserted.size - [...inserted.keys()].filter((id) => deleted.has(id)).length, 'every order the new version created is reported');
    const { rows: reverted } = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM orders WHERE id > $1 AND (schema_version <> 1 OR amount <> amount_minor / 100.0)`, [rows]);
    assert.equal(reverted[0]?.n, 0, 'created orders carry a decimal amount and schema_version 1 (down.set)');
    assert.equal(total('createdReverted'), created.length);

    // Rows nobody wrote are exactly as before the run (the migrated columns back to their pre-images).
    const touched = [...new Set(writer.ledger.map((entry) => entry.id))];
    const untouched = (from: string) => `SELECT ${columns.replace(', amount_minor, currency', '')}, amount_minor, currency FROM ${from} WHERE id <= ${rows} AND NOT (id = ANY('{${touched.join(',')}}'::bigint[]))`;
    await db.client.query('ALTER TABLE orders_before ADD COLUMN amount_minor bigint, ADD COLUMN currency text');
    assert.equal(await checksum(db.client, untouched('orders')), await checksum(db.client, untouched('orders_before')));
    // Rows whose note only changed have every migrated column back at its pre-image.
    const { rows: notes } = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM orders o JOIN orders_before b USING (id)
      WHERE o.note <> b.note AND (o.schema_version <> 1 OR o.amount_minor IS NOT NULL OR o.currency IS NOT NULL) AND NOT (o.id = ANY($1::bigint[]))`, [[...changed.keys()]]);
    assert.equal(notes[0]?.n, 0, 'a row whose untouched column changed is still restored');
  } finally {
    await engine.close();
  }
});

test('down.conflicts: restore puts the pre-image back over the application value, and still reports each one', async () => {
  const { results, writer, engine } = await migrateThenRollBack('orders-restore@1', { writeDuringRestore: false });
  try {
    const changed = conflictWrites(writer);
    const reported = await findings('changed');
    assert.equal(reported.length, changed.size, 'every amount_minor the application changed is a conflict');
    assert.ok(reported.every((finding) => finding.decision === 'restored' && changed.get(Number(finding.key)) === String(finding.found)));
    const { rows: back } = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM orders WHERE id = ANY($1::bigint[]) AND (amount_minor IS NOT NULL OR schema_version <> 1)`, [[...changed.keys()]]);
    assert.equal(back[0]?.n, 0, 'the pre-image won');
    await assertLedgerKept(writer, (_id, column) => column === 'amount_minor');
    assert.equal(results.reduce((sum, result) => sum + result.conflicts, 0), reported.length + (await findings('deleted')).length);
  } finally {
    await engine.close();
  }
});
