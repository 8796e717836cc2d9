/**
 * The MongoDB engine against the stack's server (FerretDB 1.24 locally, real MongoDB through
 * MONGODB_URL): customers migrated in 8 shards exactly as the catalog's set/rename/unset says,
 * backups holding exactly what each write changed (path, before, after), and a restore of the quiet
 * collection giving back every document field for field, BSON types and all.
 *
 * Size: 50k documents by default (the brief's size). Their `_id`s are strings: the stack's FerretDB
 * finds a document through its `_id` index only for string and ObjectId `_id`s (numbers scan the
 * collection per write). MIGRATIONS_TEST_DOCS overrides the size.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BSON, MongoClient } from 'mongodb';
import type { Collection, Db, Document } from 'mongodb';
import { canonicalJson, imbalance, loadCatalog, migrationByRef, openEngine } from '../src/index.ts';
import type { MigrationEngine } from '../src/index.ts';
import { idCondition, withIdCondition } from '../src/mongodb/keys.ts';
import { migrateAllShards } from './helpers/shards.ts';

const documents = Number(process.env.MIGRATIONS_TEST_DOCS ?? 50_000);
const catalogDir = fileURLToPath(new URL('../../examples/catalog', import.meta.url));
const databaseName = `upshift_mig_${process.pid}_${Date.now() % 1_000_000}`;
let client: MongoClient;
let db: Db;
let customers: Collection<Document>;
let engine: MigrationEngine;
let original: Document[];

function customer(index: number): Document {
  const document: Document = { _id: `c${String(index).padStart(7, '0')}`, name: `Customer ${index}`, email: `c${index}@example.com`, schemaVersion: 1 };
  if (index % 10 !== 0) document.phone = `+49 30 ${1000 + index}`;
  if (index % 3 === 0) document.legacyFlags = ['vip', index];
  return document;
}

/** The migration written out by hand, independently of the engine. */
function migratedByHand(document: Document): Document {
  const { phone, legacyFlags: _dropped, ...rest } = document;
  const profile: Document = { displayName: document.name, tier: 'standard' };
  if (phone !== undefined) profile.phone = phone;
  return { ...rest, profile, schemaVersion: 2 };
}

/** The backup entry the migration of `document` must leave: only the changed paths, pre-image order first. */
function backupByHand(document: Document): Document {
  const changes: Document[] = [{ path: 'schemaVersion', before: 1, after: 2 }];
  if (document.phone !== undefined) changes.push({ path: 'phone', before: document.phone });
  if (document.legacyFlags !== undefined) changes.push({ path: 'legacyFlags', before: document.legacyFlags });
  changes.push({ path: 'profile', after: migratedByHand(document).profile });
  return { _id: document._id, changes };
}

const exact = (docs: Document[]) => BSON.EJSON.stringify(docs, { relaxed: false });
const sorted = (docs: Document[]) => canonicalJson(JSON.parse(exact(docs)));
/**
 * Documents field by field: each top-level field's value exactly (canonical Extended JSON: BSON types,
 * nested order), in name order. A restore adds the fields the migration removed back at the end of the
 * document (MongoDB update operators cannot place a field), so top-level field order is not compared.
 */
const fieldwise = (docs: Document[]) => docs.map((doc) => Object.keys(doc).sort().map((key) => `${key}=${BSON.EJSON.stringify(doc[key], { relaxed: false })}`).join(' ')).join('\n');

before(async () => {
  assert.ok(process.env.MONGODB_URL, 'MONGODB_URL must be set (run through npm test)');
  client = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
  db = client.db(databaseName);
  customers = db.collection('customers');
  original = Array.from({ length: documents }, (_, index) => customer(index + 1));
  for (let start = 0; start < original.length; start += 5000) await customers.insertMany(original.slice(start, start + 5000).map((doc) => ({ ...doc })));
  const migration = { ...migrationByRef(loadCatalog(catalogDir), 'customers-profile@1'), database: databaseName };
  engine = openEngine(migration, { CRM_MONGODB_URL: process.env.MONGODB_URL });
});

after(async () => {
  await engine?.close();
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

test(`migrates ${documents} documents in 8 balanced shards exactly as set/rename/unset say; backups hold exactly what each write changed`, async () => {
  assert.deepEqual(await engine.preflight(), []);
  await engine.expand();
  await engine.expand();
  const ranges = await engine.splitShards(8);
  assert.equal(ranges.length, 8);
  const counts: number[] = [];
  for (const range of ranges) counts.push(await customers.countDocuments(withIdCondition({}, idCondition(range, null, null))));
  assert.equal(counts.reduce((sum, count) => sum + count, 0), documents);
  assert.ok(imbalance(counts) <= 1.25, counts.join(' '));

  const started = performance.now();
  const checkpoints = await migrateAllShards(engine, ranges, { concurrency: 2, batchSize: 250 });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`# mongodb backfill of ${documents} documents in 8 shards: ${seconds.toFixed(1)} s (${Math.round(documents / seconds)} docs/s)\n`);
  assert.equal(checkpoints.reduce((sum, checkpoint) => sum + checkpoint.changed, 0), documents);

  const migrated = await customers.find({}).sort({ _id: 1 }).toArray();
  assert.equal(sorted(migrated), sorted(original.map(migratedByHand)));
  const backups = await db.collection(`upshift_backup__customers__customers-profile__v1`).find({}).sort({ _id: 1 }).toArray();
  assert.equal(exact(backups), exact(original.map(backupByHand)));
  assert.equal(await engine.countRemaining(), 0);
  assert.ok((await engine.checkInvariants()).every((result) => result.ok));
});

test('restores every shard of the quiet collection to the documents before the backfill, field for field, idempotently; backups go only when asked', async () => {
  const ranges = await engine.splitShards(8);
  const results = [];
  for (const [index, range] of ranges.entries()) results.push(await engine.restoreShard(range, { runId: 'quiet', shardId: `quiet:${index}` }));
  assert.equal(results.reduce((sum, result) => sum + result.restored, 0), documents);
  assert.ok(results.every((result) => result.conflicts === 0 && result.created === 0 && result.findings.length === 0), 'nobody wrote: no findings');
  const restored = await customers.find({}).sort({ _id: 1 }).toArray();
  assert.equal(fieldwise(restored), fieldwise(original));
  const quietDocuments = original.filter((document) => document.phone === undefined || document.legacyFlags === undefined);
  assert.equal(exact(restored.filter((document) => document.phone === undefined || document.legacyFlags === undefined)), exact(quietDocuments),
    'byte for byte where the removed fields come back in their original order (at most one of them)');
  const again = await engine.restoreShard(ranges[0] ?? { start: null, end: null }, { runId: 'quiet', shardId: 'quiet:0' });
  assert.deepEqual(again, results[0], 'a second restore of a shard changes nothing and reports the same');
  assert.equal(fieldwise(await customers.find({}).sort({ _id: 1 }).toArray()), fieldwise(original));
  assert.equal(await engine.countRemaining(), documents);
  const backupNames = async () => (await db.listCollections({}, { nameOnly: true }).toArray()).map((info) => info.name).filter((name) => name.startsWith('upshift_backup__'));
  assert.equal((await backupNames()).length, 1);
  await engine.dropBackups();
  assert.deepEqual(await backupNames(), []);
});
