/**
 * Backups belong to one run: expand(runId) empties backups another run of the same migration left (a
 * rolled-back or completed run), keeps them on a redelivered expand of the same run, so a restore can
 * only put back the current run's pre-images. Real PostgreSQL and the stack's MongoDB-protocol server.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { Document } from 'mongodb';
import { loadCatalog, migrationByRef, openEngine } from '../src/index.ts';
import type { MigrationEngine } from '../src/index.ts';
import { backupCollectionName } from '../src/mongodb/engine.ts';
import { backupTableName } from '../src/postgres/sql.ts';
import { createTestDatabase, seedOrders } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';

const catalog = loadCatalog(fileURLToPath(new URL('../../examples/catalog', import.meta.url)));
const whole = { start: null, end: null };
let db: TestDatabase;
let mongo: MongoClient;
const mongoDatabase = `upshift_own_${process.pid}_${Date.now() % 1_000_000}`;

before(async () => {
  assert.ok(process.env.MONGODB_URL, 'MONGODB_URL must be set (run through npm test)');
  db = await createTestDatabase('owners');
  await seedOrders(db.client, 300);
  mongo = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
  await mongo.db(mongoDatabase).collection<Document>('customers').insertMany(
    Array.from({ length: 300 }, (_, i) => ({ _id: `c${String(i).padStart(4, '0')}` as unknown as Document['_id'], name: `Customer ${i}`, phone: `+49 ${i}`, schemaVersion: 1 })));
});

after(async () => {
  await db?.drop();
  await mongo?.db(mongoDatabase).dropDatabase().catch(() => undefined);
  await mongo?.close();
});

/** Run A backs up 100 rows, is restored; run B's expand must start from an empty backup. */
async function scenario(engine: MigrationEngine, backedUp: () => Promise<number>, changeOneRow: () => Promise<void>, readOneRow: () => Promise<unknown>): Promise<void> {
  await engine.expand('run-a');
  await engine.runBatch({ range: whole, after: null, ceiling: null, batchSize: 100, backup: true });
  assert.equal(await backedUp(), 100);
  await engine.expand('run-a');
  assert.equal(await backedUp(), 100, 'a redelivered expand of the same run keeps its backups');
  await engine.restoreShard(whole, { runId: 'run-a', shardId: 'run-a:0' });
  await changeOneRow(); // the application writes after the rollback of run A
  const written = await readOneRow();
  await engine.expand('run-b');
  assert.equal(await backedUp(), 0, 'run B starts from an empty backup');
  await engine.runBatch({ range: whole, after: null, ceiling: null, batchSize: 300, backup: true });
  assert.equal(await backedUp(), 300);
  await engine.restoreShard(whole, { runId: 'run-b', shardId: 'run-b:0' });
  assert.deepEqual(await readOneRow(), written, "run B's restore keeps the write made after run A, not run A's older pre-image");
}

test('PostgreSQL: expand(runId) empties another run\'s backup table, keeps its own', async () => {
  const migration = migrationByRef(catalog, 'orders-currency@1');
  if (migration.store !== 'postgres') throw new Error('orders-currency@1 is a PostgreSQL migration');
  const backup = `upshift_backup.${pg.escapeIdentifier(backupTableName(migration))}`;
  const engine = openEngine(migration, { SHOP_DATABASE_URL: db.url });
  try {
    await scenario(engine,
      async () => Number((await db.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${backup}`)).rows[0]?.n),
      async () => { await db.client.query(`UPDATE orders SET note = 'changed after run A' WHERE id = 7`); },
      async () => (await db.client.query(`SELECT note, amount::text, schema_version FROM orders WHERE id = 7`)).rows[0]);
    const { rows } = await db.client.query<{ owner: string }>(`SELECT obj_description($1::regclass, 'pg_class') AS owner`, [backup]);
    assert.equal(rows[0]?.owner, 'upshift run run-b');
  } finally {
    await engine.close();
  }
});

test('MongoDB: expand(runId) empties another run\'s backup collection, keeps its own', async () => {
  const migration = { ...migrationByRef(catalog, 'customers-profile@1'), database: mongoDatabase };
  if (migration.store !== 'mongodb') throw new Error('customers-profile@1 is a MongoDB migration');
  const engine = openEngine(migration, { CRM_MONGODB_URL: process.env.MONGODB_URL });
  const customers = mongo.db(mongoDatabase).collection<Document>('customers');
  try {
    await scenario(engine,
      () => mongo.db(mongoDatabase).collection(backupCollectionName(migration)).countDocuments({}),
      async () => { await customers.updateOne({ _id: 'c0007' as unknown as Document['_id'] }, { $set: { phone: 'changed after run A' } }); },
      () => customers.findOne({ _id: 'c0007' as unknown as Document['_id'] }));
  } finally {
    await engine.close();
  }
});
