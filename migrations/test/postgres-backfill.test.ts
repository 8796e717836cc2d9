/**
 * The PostgreSQL engine against a real server: 200k orders in 8 shards migrated exactly as the catalog
 * says, backups holding exactly the pre-images, then restored to exactly the rows before the backfill.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { imbalance, loadCatalog, migrationByRef, openEngine } from '../src/index.ts';
import type { MigrationEngine } from '../src/index.ts';
import { checksum, createTestDatabase, rowsPerRange, seedOrders } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';
import { migrateAllShards } from './helpers/shards.ts';

const rows = Number(process.env.MIGRATIONS_TEST_ROWS ?? 200_000);
const catalogDir = fileURLToPath(new URL('../../examples/catalog', import.meta.url));
const columns = 'id, customer_id, amount, note, created_at, schema_version, amount_minor, currency';
let db: TestDatabase;
let engine: MigrationEngine;

before(async () => {
  db = await createTestDatabase('backfill');
  await seedOrders(db.client, rows);
  const migration = migrationByRef(loadCatalog(catalogDir), 'orders-currency@1');
  engine = openEngine(migration, { SHOP_DATABASE_URL: db.url });
  assert.deepEqual(await engine.preflight(), []);
  await engine.expand();
  await engine.expand(); // idempotent
  await db.client.query(`CREATE TABLE orders_before AS SELECT ${columns} FROM orders`);
});

after(async () => {
  await engine?.close();
  await db?.drop();
});

test(`migrates ${rows} rows in 8 balanced shards exactly as the transform says, backups hold exactly the pre-images`, async () => {
  const ranges = await engine.splitShards(8);
  assert.equal(ranges.length, 8);
  const counts = await rowsPerRange(db, 'orders', ranges);
  assert.equal(counts.reduce((sum, count) => sum + count, 0), rows);
  assert.ok(imbalance(counts) <= 1.25, `shards within 25%: ${counts.join(', ')}`);

  const started = performance.now();
  const checkpoints = await migrateAllShards(engine, ranges, { concurrency: 4 });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`# backfill of ${rows} rows in 8 shards: ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s)\n`);
  assert.equal(checkpoints.reduce((sum, checkpoint) => sum + checkpoint.changed, 0), rows);
  assert.ok(checkpoints.every((checkpoint) => checkpoint.done));
  assert.equal(await engine.countRemaining(), 0);

  // Independently: the transform written out by hand over the snapshot taken before the backfill.
  const expected = await checksum(db.client, `SELECT id, customer_id, amount, note, created_at, 2 AS schema_version,
    (coalesce(amount, 0) * 100)::bigint AS amount_minor, 'EUR'::text AS currency FROM orders_before`);
  assert.equal(await checksum(db.client, `SELECT ${columns} FROM orders`), expected);
  // The backup holds the pre-image of the changed columns and what the migration wrote to them, nothing else.
  const changed = 'id, amount_minor, currency, schema_version';
  assert.equal(await checksum(db.client, `SELECT ${changed} FROM upshift_backup.orders__orders_currency__v1`), await checksum(db.client, `SELECT ${changed} FROM orders_before`));
  const written = 'id, amount_minor__written, currency__written, schema_version__written';
  assert.equal(await checksum(db.client, `SELECT ${written} FROM upshift_backup.orders__orders_currency__v1`),
    await checksum(db.client, `SELECT id, amount_minor AS amount_minor__written, currency AS currency__written, schema_version AS schema_version__written FROM orders`));
  assert.deepEqual((await engine.checkInvariants()).map((result) => result.ok), [true, true]);
});

test('restores every shard to exactly the rows before the backfill, idempotently; backups go only when asked', async () => {
  const before = await checksum(db.client, `SELECT ${columns} FROM orders_before`);
  const ranges = await engine.splitShards(8);
  let restored = 0;
  const shard = (index: number) => ({ runId: 'run-quiet', shardId: `run-quiet:orders-currency@1:${index}` });
  const results = [];
  for (const [index, range] of ranges.entries()) results.push(await engine.restoreShard(range, shard(index)));
  restored = results.reduce((sum, result) => sum + result.restored, 0);
  assert.equal(restored, rows);
  assert.deepEqual(results.map((result) => result.conflicts + result.created), ranges.map(() => 0), 'a quiet table has nothing to report');
  assert.equal(await checksum(db.client, `SELECT ${columns} FROM orders`), before);
  // A restore requested again (a redelivery) does nothing more and reports the same totals.
  for (const [index, range] of ranges.slice(0, 2).entries()) assert.deepEqual(await engine.restoreShard(range, shard(index)), results[index]);
  // A restore of another run over rows already restored finds nothing to put back and changes nothing.
  assert.equal((await engine.restoreShard(ranges[0]!, { runId: 'run-other', shardId: 'run-other:orders-currency@1:0' })).restored, 0);
  assert.equal(await checksum(db.client, `SELECT ${columns} FROM orders`), before);
  assert.equal(await engine.countRemaining(), rows);

  const backupExists = async () => (await db.client.query(`SELECT to_regclass('upshift_backup.orders__orders_currency__v1') AS t`)).rows[0]?.t !== null;
  assert.ok(await backupExists(), 'restore keeps the backup');
  await engine.dropBackups();
  assert.ok(!(await backupExists()), 'dropBackups drops it');
});
