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
  const before = await checksum(db.client, `SELECT ${columns} FROM orders_before`);
  assert.equal(await checksum(db.client, `SELECT ${columns} FROM upshift_backup.orders__orders_currency__v1`), before);
  assert.deepEqual((await engine.checkInvariants()).map((result) => result.ok), [true, true]);
});

test('restores every shard to exactly the rows before the backfill, idempotently; backups go only when asked', async () => {
  const before = await checksum(db.client, `SELECT ${columns} FROM orders_before`);
  const ranges = await engine.splitShards(8);
  let restored = 0;
  for (const range of ranges) restored += (await engine.restoreShard(range)).restored;
  assert.equal(restored, rows);
  assert.equal(await checksum(db.client, `SELECT ${columns} FROM orders`), before);
  for (const range of ranges.slice(0, 2)) await engine.restoreShard(range);
  assert.equal(await checksum(db.client, `SELECT ${columns} FROM orders`), before);
  assert.equal(await engine.countRemaining(), rows);

  const backupExists = async () => (await db.client.query(`SELECT to_regclass('upshift_backup.orders__orders_currency__v1') AS t`)).rows[0]?.t !== null;
  assert.ok(await backupExists(), 'restore keeps the backup');
  await engine.dropBackups();
  assert.ok(!(await backupExists()), 'dropBackups drops it');
});
