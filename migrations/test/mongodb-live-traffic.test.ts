/**
 * The MongoDB engine with the application writing all the time (about 200 writes/s, every one in a
 * ledger), against the stack's server (FerretDB 1.24 locally, real MongoDB through MONGODB_URL): a
 * backfill overwrites no write (its writes are compare-and-set; the misses are counted, so the test
 * knows the writer really raced it), and a rollback after the migration keeps every write the
 * application made since — fields the migration never touched always, migrated paths as
 * `down.conflicts` says, each conflict reported by key and path in upshift_conflicts — while documents
 * nobody wrote come back exactly as they were before the run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import type { Collection, Db, Document } from 'mongodb';
import { createMongoEngine, loadCatalog, migrationByRef } from '../src/index.ts';
import type { MigrationEngine, MongoMigration, RestoreResult } from '../src/index.ts';
import { valueAtPath } from '../src/core/document-update.ts';
import { backupCollectionName } from '../src/mongodb/engine.ts';
import { writeCatalog } from './helpers/catalog.ts';
import { customerId, fieldwise, lastWrites, migratedByHand, seedCustomers, startCustomersWriter } from './helpers/customers-writer.ts';
import type { CustomersWriter } from './helpers/customers-writer.ts';
import { migrateAllShards, migrateBesideWriter } from './helpers/shards.ts';

const documents = 6000;
const example = readFileSync(fileURLToPath(new URL('../../examples/catalog/customers-profile@1.yaml', import.meta.url)), 'utf8');
const catalog = writeCatalog({
  'customers-profile@1.yaml': example,
  'customers-restore@1.yaml': example.replace('name: customers-profile', 'name: customers-restore').replace('conflicts: keep-current', 'conflicts: restore'),
});
const databaseName = `upshift_live_${process.pid}_${Date.now() % 1_000_000}`;
let client: MongoClient;
let db: Db;
let customers: Collection<Document>;

before(async () => {
  assert.ok(process.env.MONGODB_URL, 'MONGODB_URL must be set (run through npm test)');
  assert.match(example, /conflicts: keep-current/);
  client = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
  db = client.db(databaseName);
});
after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  catalog.remove();
});

const randomId = () => customerId(1 + Math.floor(Math.random() * documents));
// Inserted ids sort between the seeded ones, so some land behind a shard's cursor and some ahead of it.
const newId = (sequence: number) => `${randomId()}-app${sequence}`;

function migrationOf(ref: string): MongoMigration {
  const migration = migrationByRef(loadCatalog(catalog.dir), ref);
  if (migration.store !== 'mongodb') throw new Error(`${ref} is a MongoDB migration`);
  return { ...migration, database: databaseName };
}

async function freshCustomers(): Promise<Document[]> {
  await db.dropDatabase();
  customers = db.collection('customers');
  return seedCustomers(customers, documents);
}

test('a backfill under 200 writes/s overwrites none of them, meets them (compare-and-set misses), and migrates every document that existed before', async () => {
  const original = await freshCustomers();
  const migration = migrationOf('customers-profile@1');
  const misses: string[] = [];
  const engine = createMongoEngine(migration, { connectionString: process.env.MONGODB_URL ?? '', hooks: { onCasMiss: (key) => misses.push(key) } });
  try {
    await engine.expand('run-backfill');
    const ranges = await engine.splitShards(4);
    const writer = startCustomersWriter({
      collection: customers, mix: { email: 2, counter: 1, name: 2, phone: 3, 'insert-v1': 1 }, existingId: randomId, newId,
    });
    const { seconds, throttles } = await migrateBesideWriter(engine, ranges, writer);
    process.stdout.write(`# backfill of ${documents} documents in ${seconds.toFixed(1)} s beside ${writer.ledger.length} application writes: ${misses.length} compare-and-set misses re-planned, ${throttles} batches retried smaller\n`);
    assert.deepEqual(writer.failures, [], 'no application write failed');
    assert.ok(writer.ledger.length >= 300, `the application wrote throughout the backfill (${writer.ledger.length})`);
    assert.ok(misses.length > 0, 'the writer raced the backfill: some writes met a document between its read and its write');

    assert.equal(await customers.countDocuments({ source: { $ne: 'app' }, schemaVersion: { $ne: 2 } }), 0, 'every pre-existing document is migrated');
    const { inserted } = lastWrites(writer.ledger);
    assert.equal(await customers.countDocuments({}), documents + inserted.size, 'no document lost or added');
    const current = new Map((await customers.find({}).toArray()).map((document) => [String(document._id), document]));
    assert.ok(assertLedgerKept(writer, current) > 0);
    // Documents nobody wrote are exactly their migrated form.
    const written = new Set(writer.ledger.map((entry) => entry.id));
    for (const document of original.filter((doc) => !written.has(String(doc._id)))) {
      assert.equal(fieldwise(current.get(String(document._id))), fieldwise(migratedByHand(document)));
    }
    // The backup describes the write that happened: each entry's profile is the document's (nobody writes profile here).
    const entries = await db.collection(backupCollectionName(migration)).find({}).toArray();
    assert.equal(entries.length, await customers.countDocuments({ schemaVersion: 2 }), 'one entry per document this run migrated');
    for (const entry of entries) {
      const profile = (entry.changes as Document[]).find((change) => change.path === 'profile');
      assert.equal(fieldwise({ profile: profile?.after }), fieldwise({ profile: current.get(String(entry._id))?.profile }), `backup entry of ${String(entry._id)}`);
    }
  } finally {
    await engine.close();
  }
});

/** Every ledger write is still there: the last value per (document, field), flat `phone` or moved to `profile.phone` by the migration. */
function assertLedgerKept(writer: CustomersWriter, current: Map<string, Document>, skip: (path: string) => boolean = () => false): number {
  const { values, deleted, inserted } = lastWrites(writer.ledger);
  let checked = 0;
  for (const { id, kind, value } of values.values()) {
    if (deleted.has(id) || skip(kind)) continue;
    const document = current.get(id);
    const found = kind === 'phone' && document?.phone === undefined ? valueAtPath(document, 'profile.phone') : valueAtPath(document, kind);
    assert.deepEqual(found, value, `the application's write of ${kind} = ${String(value)} on ${id} is kept`);
    checked += 1;
  }
  for (const id of deleted) assert.ok(!current.has(id), `${id}, deleted by the application, stays deleted`);
  for (const [id, document] of inserted) {
    if (deleted.has(id)) continue;
    const found = current.get(id);
    assert.ok(found, `${id}, inserted by the application, is there`);
    assert.equal(found.email, document.email);
  }
  return checked;
}

/**
 * Migrates quietly, then the application (the new version now) changes untouched fields (email, counter),
 * migrated paths (profile.phone, profile.tier), inserts customers at the new version and deletes some;
 * optionally it keeps writing while the rollback restores every shard.
 */
async function migrateThenRollBack(ref: string, options: { writeDuringRestore: boolean }): Promise<{ original: Document[]; results: RestoreResult[]; writer: CustomersWriter; duringRestore: Set<string>; engine: MigrationEngine }> {
  const original = await freshCustomers();
  const engine = createMongoEngine(migrationOf(ref), { connectionString: process.env.MONGODB_URL ?? '' });
  await engine.expand('run-rollback');
  const ranges = await engine.splitShards(4);
  await migrateAllShards(engine, ranges, { concurrency: 4, batchSize: 500 });
  const beforeFailure = startCustomersWriter({
    collection: customers, mix: { email: 3, counter: 1, 'profile.phone': 2, 'profile.tier': 1, 'insert-v2': 2, delete: 1 }, existingId: randomId, newId,
  });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await beforeFailure.stop();
  const during = options.writeDuringRestore
    ? startCustomersWriter({ collection: customers, mix: { email: 3, counter: 1, 'profile.tier': 2, delete: 1 }, existingId: randomId, newId })
    : undefined;
  const results = await Promise.all(ranges.map((range, index) => engine.restoreShard(range, { runId: 'run-rollback', shardId: `run-rollback:${index}` })))
    .finally(() => during?.stop());
  const writer = { ledger: [...beforeFailure.ledger, ...(during?.ledger ?? [])], failures: [...beforeFailure.failures, ...(during?.failures ?? [])], stop: async () => undefined };
  return { original, results, writer, duringRestore: new Set(during?.ledger.map((entry) => entry.id)), engine };
}

async function findings(kind: string): Promise<Document[]> {
  return db.collection('upshift_conflicts').find({ runId: 'run-rollback', kind }).sort({ documentId: 1 }).toArray();
}

const total = (results: RestoreResult[], field: 'restored' | 'conflicts' | 'created' | 'createdReverted') => results.reduce((sum, result) => sum + result[field], 0);

test('a rollback while the application writes keeps every write; conflicts on migrated paths stay (keep-current) and are reported by key and path', async () => {
  const { original, results, writer, duringRestore, engine } = await migrateThenRollBack('customers-profile@1', { writeDuringRestore: true });
  try {
    process.stdout.write(`# rollback beside ${writer.ledger.length} application writes: ${total(results, 'restored')} documents restored, ${total(results, 'conflicts')} conflicts, ${total(results, 'created')} created (${total(results, 'createdReverted')} reverted)\n`);
    assert.deepEqual(writer.failures, []);
    const { deleted, inserted } = lastWrites(writer.ledger);
    const profileWrites = writer.ledger.filter((entry) => entry.kind.startsWith('profile.') && !deleted.has(entry.id));
    const beforeRestore = new Set(profileWrites.filter((entry) => entry.kind === 'profile.phone').map((entry) => entry.id));
    assert.ok(beforeRestore.size > 10 && deleted.size > 0 && inserted.size > 0, 'the application changed migrated paths, deleted and inserted customers');

    const current = new Map((await customers.find({}).toArray()).map((document) => [String(document._id), document]));
    assert.ok(assertLedgerKept(writer, current) >= beforeRestore.size, 'every application write is still there (keep-current)');
    const reported = new Map((await findings('changed')).map((finding) => [String(finding.documentId), finding]));
    for (const id of beforeRestore) assert.ok(reported.has(id), `the change of profile on ${id} (made before the restore) is reported`);
    const changedIds = new Set(writer.ledger.filter((entry) => entry.kind.startsWith('profile.')).map((entry) => entry.id));
    for (const [id, finding] of reported) {
      assert.ok(changedIds.has(id), `a reported conflict (${id}) is a customer whose profile the application changed`);
      assert.deepEqual([finding.column, finding.decision], ['profile', 'kept']);
      assert.notEqual(fieldwise({ v: finding.found }), fieldwise({ v: finding.written }));
      if (!duringRestore.has(id) && !deleted.has(id)) assert.equal(fieldwise({ v: current.get(id)?.profile }), fieldwise({ v: finding.found }), 'the value found is the one kept');
    }
    const deletedFindings = await findings('deleted');
    assert.equal(total(results, 'conflicts'), reported.size + deletedFindings.length, 'the results count every finding once');
    assert.ok(deletedFindings.every((finding) => deleted.has(String(finding.documentId)) && !current.has(String(finding.documentId))));
    // Customers the new version created come back in the old form (down.rename), marker at 1.
    const created = new Set((await findings('created')).map((finding) => String(finding.documentId)));
    const createdAlive = [...inserted.keys()].filter((id) => !deleted.has(id));
    assert.ok(createdAlive.every((id) => created.has(id)), 'every customer the new version created is reported');
    assert.ok([...created].every((id) => inserted.has(id)), 'only those');
    assert.equal(total(results, 'created'), created.size);
    assert.equal(total(results, 'createdReverted'), created.size);
    for (const id of createdAlive) {
      const document = current.get(id);
      assert.equal(document?.schemaVersion, 1);
      assert.equal(document?.phone, (inserted.get(id)?.profile as Document).phone, `${id}: profile.phone back to phone`);
      assert.equal(valueAtPath(document, 'profile.phone'), undefined);
    }
    // Customers nobody wrote are exactly as before the run.
    const written = new Set(writer.ledger.map((entry) => entry.id));
    for (const document of original.filter((doc) => !written.has(String(doc._id)))) {
      assert.equal(fieldwise(current.get(String(document._id))), fieldwise(document), String(document._id));
    }
  } finally {
    await engine.close();
  }
});

test('down.conflicts: restore puts the pre-image back over the application value, and still reports each one', async () => {
  const { original, results, writer, engine } = await migrateThenRollBack('customers-restore@1', { writeDuringRestore: false });
  try {
    const { deleted } = lastWrites(writer.ledger);
    const changedIds = new Set(writer.ledger.filter((entry) => entry.kind.startsWith('profile.') && !deleted.has(entry.id)).map((entry) => entry.id));
    const reported = await findings('changed');
    assert.deepEqual(reported.map((finding) => String(finding.documentId)).sort(), [...changedIds].sort(), 'every profile the application changed is a conflict');
    assert.ok(reported.every((finding) => finding.column === 'profile' && finding.decision === 'restored'));
    const byId = new Map(original.map((document) => [String(document._id), document]));
    const current = new Map((await customers.find({}).toArray()).map((document) => [String(document._id), document]));
    for (const id of changedIds) {
      const document = current.get(id);
      assert.equal(document?.profile, undefined, `${id}: the pre-image (no profile) won`);
      assert.equal(document?.schemaVersion, 1);
      assert.equal(document?.phone, byId.get(id)?.phone);
    }
    assertLedgerKept(writer, current, (path) => path.startsWith('profile.'));
    assert.equal(total(results, 'conflicts'), reported.length + (await findings('deleted')).length);
  } finally {
    await engine.close();
  }
});
