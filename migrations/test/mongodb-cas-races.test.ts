/**
 * Compare-and-set writes of the MongoDB engine, each race provoked deterministically: the engine's
 * `beforeWrite` hook runs the application's write after a batch (or restore) has read and planned a
 * document and before it writes it. Against the stack's server; the first test checks the precondition
 * every guarantee here rests on: the server applies concurrent updates of one document atomically.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BSON, MongoClient } from 'mongodb';
import type { Collection, Db, Document } from 'mongodb';
import { createMongoEngine, isMigrationError, loadCatalog, migrationByRef } from '../src/index.ts';
import type { MigrationEngine, MongoMigration } from '../src/index.ts';
import { backupCollectionName } from '../src/mongodb/engine.ts';
import { customer, customerId } from './helpers/customers-writer.ts';

const databaseName = `upshift_race_${process.pid}_${Date.now() % 1_000_000}`;
const whole = { start: null, end: null };
let client: MongoClient;
let db: Db;
let customers: Collection<Document>;
let backup: Collection<Document>;
let migration: MongoMigration;

before(async () => {
  assert.ok(process.env.MONGODB_URL, 'MONGODB_URL must be set (run through npm test)');
  client = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
  db = client.db(databaseName);
  const loaded = migrationByRef(loadCatalog(fileURLToPath(new URL('../../examples/catalog', import.meta.url))), 'customers-profile@1');
  if (loaded.store !== 'mongodb') throw new Error('customers-profile@1 is a MongoDB migration');
  migration = { ...loaded, database: databaseName };
  customers = db.collection('customers');
  backup = db.collection(backupCollectionName(migration));
});
after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

const byId = (index: number) => ({ _id: customerId(index) } as unknown as Document);
const exact = { promoteValues: false } as const;

/**
 * A fresh collection of `count` customers (overrides by index) and an engine whose writes `race` can
 * interleave, writing `writesPerCommand` per command (undefined: the engine's default).
 */
async function setUp(count: number, overrides: Record<number, Document>, race: (phase: string) => Promise<void>, misses: string[] = [], writesPerCommand?: number): Promise<MigrationEngine> {
  await db.dropDatabase();
  await customers.insertMany(Array.from({ length: count }, (_, index) => ({ ...customer(index + 1), ...overrides[index + 1] })));
  const engine = createMongoEngine(migration, {
    connectionString: process.env.MONGODB_URL ?? '', hooks: { beforeWrite: race, onCasMiss: (key) => misses.push(key) }, ...(writesPerCommand === undefined ? {} : { writesPerCommand }),
  });
  await engine.expand('run-race');
  return engine;
}

test('precondition: the server applies concurrent updates of one document atomically (no update lost inside the server)', async () => {
  const probe = db.collection<Document>('atomicity_probe');
  await probe.insertMany(Array.from({ length: 4 }, (_, index) => ({ _id: `d${index}` as unknown as Document['_id'], a: 0, b: 0 })));
  const other = new MongoClient(process.env.MONGODB_URL ?? '');
  const increments = (collection: Collection<Document>, field: string) => (async () => {
    for (let n = 0; n < 200; n += 1) await collection.updateOne({ _id: `d${n % 4}` as unknown as Document['_id'] }, { $inc: { [field]: 1 } });
  })();
  try {
    await Promise.all([increments(probe, 'a'), increments(other.db(databaseName).collection('atomicity_probe'), 'b'), increments(probe, 'a'), increments(other.db(databaseName).collection('atomicity_probe'), 'b')]);
  } finally {
    await other.close();
  }
  const documents = await probe.find({}).toArray();
  const sums = ['a', 'b'].map((field) => documents.reduce((sum, document) => sum + Number(document[field]), 0));
  const lost = 800 - sums.reduce((sum, value) => sum + value, 0);
  assert.deepEqual(sums, [400, 400], `the server lost ${lost} of 800 concurrent $inc on 4 documents: it does not apply updates of one document atomically `
    + '(stock FerretDB 1.24 reads, modifies and writes back a whole document without a lock; see migrations/README "What a rollback keeps")');
});

for (const writesPerCommand of [undefined, 3]) test(`a write made between a batch read and its write is kept: the document is planned again from a fresh read and its backup entry replaced (${writesPerCommand ?? 'default'} writes per command)`, async () => {
  const misses: string[] = [];
  let raced = false;
  const engine = await setUp(20, { 6: { phone: null }, 7: { phone: new BSON.Int32(5) }, 8: { phone: 'x' } }, async (phase) => {
    if (phase !== 'backfill' || raced) return;
    raced = true;
    await customers.updateOne(byId(1), { $set: { phone: 'raced phone' } });
    await customers.updateOne(byId(2), { $set: { email: 'raced@example.com' } });
    await customers.updateOne(byId(3), { $set: { name: 'Raced Name' } });
    await customers.updateOne(byId(4), { $set: { schemaVersion: 2, profile: { tier: 'migrated by the application' } } });
    await customers.deleteOne(byId(5));
    await customers.updateOne(byId(6), { $unset: { phone: '' } }); // null → missing: {$eq: null} would still match
    await customers.updateOne(byId(7), { $set: { phone: new BSON.Double(5) } }); // int 5 → double 5: $eq alone would still match
    await customers.updateOne(byId(8), { $set: { phone: ['x', 'y'] } }); // 'x' → ['x', 'y']: $eq alone would still match
  }, misses, writesPerCommand);
  try {
    const result = await engine.runBatch({ range: whole, after: null, ceiling: null, batchSize: 100, backup: true });
    assert.equal(result.changed, 18, 'all but the document the application migrated and the one it deleted');
    assert.deepEqual(misses.sort(), [1, 3, 6, 7, 8].map((index) => JSON.stringify(customerId(index))), 'each raced document missed once and was written on the second attempt');
    const doc = async (index: number) => customers.findOne(byId(index), exact);
    assert.equal((await doc(1))?.profile.phone, 'raced phone');
    assert.equal((await doc(1))?.phone, undefined);
    assert.equal((await doc(2))?.email, 'raced@example.com', 'a field no write pins survives the write');
    assert.equal((await doc(3))?.profile.displayName, 'Raced Name');
    assert.deepEqual((await doc(4))?.profile, { tier: 'migrated by the application' }, 'a document the application migrated is left alone');
    assert.equal(await doc(5), null, 'a deleted document stays deleted');
    assert.equal('phone' in ((await doc(6))?.profile as Document), false);
    assert.ok((await doc(7))?.profile.phone instanceof BSON.Double, 'the double the application wrote moved, not the older int');
    assert.deepEqual((await doc(8))?.profile.phone, ['x', 'y']);
    const entries = new Map((await backup.find({}).toArray()).map((entry) => [String(entry._id), entry.changes as Document[]]));
    assert.equal(entries.size, 18, 'no entry for documents this run did not migrate');
    assert.deepEqual(entries.get(customerId(1))?.find((change) => change.path === 'phone'), { path: 'phone', before: 'raced phone' }, 'the entry holds the pre-image of the write that happened');
    assert.equal(entries.has(customerId(4)) || entries.has(customerId(5)), false);
  } finally {
    await engine.close();
  }
});

test('a batch resumed after a crash replaces the backup entries already there by its own, in commands of 3, before writing', async () => {
  const engine = await setUp(10, {}, async () => undefined, [], 3);
  try {
    await backup.insertMany([4, 5, 9].map((index) => ({ _id: customerId(index) as unknown as Document['_id'], changes: [{ path: 'stale', before: 'from the crashed run' }] })));
    const result = await engine.runBatch({ range: whole, after: null, ceiling: null, batchSize: 100, backup: true });
    assert.equal(result.changed, 10);
    const entries = await backup.find({}).toArray();
    assert.equal(entries.length, 10);
    for (const entry of entries) assert.equal((entry.changes as Document[]).some((change) => change.path === 'stale'), false, `the entry of ${String(entry._id)} is this run's`);
    assert.deepEqual(((await backup.findOne(byId(5)))?.changes as Document[]).find((change) => change.path === 'phone'), { path: 'phone', before: '+49 30 1005' }, 'a replaced entry holds this run\'s pre-image');
  } finally {
    await engine.close();
  }
});

test('a document that keeps changing fails its batch with THROTTLED naming it after 5 attempts; a later batch migrates it', async () => {
  let racing = true;
  let writes = 0;
  const engine = await setUp(30, {}, async (phase) => {
    if (phase !== 'backfill' || !racing) return;
    writes += 1;
    await customers.updateOne(byId(10), { $set: { phone: `busy ${writes}` } });
  });
  try {
    await assert.rejects(engine.runBatch({ range: whole, after: null, ceiling: null, batchSize: 100, backup: true }), (error: unknown) => {
      assert.ok(isMigrationError(error, 'THROTTLED'), String(error));
      assert.equal(error.key, JSON.stringify(customerId(10)));
      assert.match(error.message, /customers-profile@1: document "c0000010" kept changing during the backfill \(5 attempts\)/);
      return true;
    });
    assert.equal(await customers.countDocuments({ schemaVersion: 2 }), 29, 'the other documents of the batch are migrated');
    racing = false;
    const retried = await engine.runBatch({ range: whole, after: null, ceiling: null, batchSize: 100, backup: true });
    assert.equal(retried.changed, 1);
    assert.equal((await customers.findOne(byId(10)))?.profile.phone, `busy ${writes}`);
    const entry = await backup.findOne(byId(10));
    assert.deepEqual((entry?.changes as Document[]).find((change) => change.path === 'phone'), { path: 'phone', before: `busy ${writes}` });
  } finally {
    await engine.close();
  }
});

test('a restore meeting a write re-reads and decides again: a changed migrated path is kept and reported, an untouched field survives, the rest goes back', async () => {
  const misses: string[] = [];
  let restoring = false;
  const engine = await setUp(10, {}, async (phase) => {
    if (phase !== 'restore' || restoring) return;
    restoring = true;
    await customers.updateOne(byId(1), { $set: { 'profile.tier': 'gold' } });
    await customers.updateOne(byId(2), { $set: { email: 'late@example.com' } });
  }, misses);
  try {
    await engine.runBatch({ range: whole, after: null, ceiling: null, batchSize: 100, backup: true });
    const result = await engine.restoreShard(whole, { runId: 'run-race', shardId: 'run-race:0' });
    assert.deepEqual(misses, [JSON.stringify(customerId(1))]);
    assert.deepEqual({ restored: result.restored, conflicts: result.conflicts, created: result.created }, { restored: 10, conflicts: 1, created: 0 });
    assert.deepEqual(result.findings, [{ key: '"c0000001"', column: 'profile', kind: 'changed', decision: 'kept',
      written: '{"displayName":"Customer 1","tier":"standard","phone":"+49 30 1001"}', found: '{"displayName":"Customer 1","tier":"gold","phone":"+49 30 1001"}' }]);
    const first = await customers.findOne(byId(1));
    assert.deepEqual([first?.schemaVersion, first?.phone, first?.profile.tier], [1, '+49 30 1001', 'gold']);
    assert.equal((await customers.findOne(byId(2)))?.email, 'late@example.com');
    assert.equal((await customers.findOne(byId(2)))?.profile, undefined);
  } finally {
    await engine.close();
  }
});

test('a backup entry in the old whole-document format is refused, never misread; claiming the backup for a run empties it', async () => {
  const engine = await setUp(5, {}, async () => undefined);
  try {
    await backup.insertOne({ ...customer(3) });
    await assert.rejects(engine.restoreShard(whole, { runId: 'run-race', shardId: 'run-race:0' }), (error: unknown) =>
      isMigrationError(error, 'STORE_REJECTED') && error.key === '"c0000003"' && /not in the path-changes format/.test(error.message));
    assert.equal((await customers.findOne(byId(3)))?.schemaVersion, 1, 'nothing was written from it');
    await db.collection<Document>('upshift_backup_owners').updateOne({ _id: backup.collectionName } as Document, { $unset: { format: '' } });
    await engine.expand('run-race');
    assert.equal(await backup.countDocuments({}), 0, 'a backup claimed before the format existed is emptied, even by the same run');
  } finally {
    await engine.close();
  }
});
