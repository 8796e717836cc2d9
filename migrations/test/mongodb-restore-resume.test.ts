/**
 * A MongoDB restore interrupted half-way — first only part of a shard, then a crash between recording
 * findings and writing — and run again ends with the same documents, the same findings and the same
 * totals as an undisturbed restore of an identical twin: two databases seeded, migrated and written to
 * by the application in exactly the same way. Against the stack's server.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import type { Collection, Db, Document } from 'mongodb';
import { createMongoEngine, loadCatalog, migrationByRef } from '../src/index.ts';
import type { KeyRange, MigrationEngine, MongoMigration, RestoreResult } from '../src/index.ts';
import { encodeKey } from '../src/mongodb/keys.ts';
import { customerId, fieldwise, insertedCustomer, seedCustomers } from './helpers/customers-writer.ts';
import { migrateAllShards } from './helpers/shards.ts';

const documents = 3000;
const stamp = `${process.pid}_${Date.now() % 1_000_000}`;
let client: MongoClient;
let migration: MongoMigration;

before(async () => {
  assert.ok(process.env.MONGODB_URL, 'MONGODB_URL must be set (run through npm test)');
  client = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
  const loaded = migrationByRef(loadCatalog(fileURLToPath(new URL('../../examples/catalog', import.meta.url))), 'customers-profile@1');
  if (loaded.store !== 'mongodb') throw new Error('customers-profile@1 is a MongoDB migration');
  migration = loaded;
});
after(async () => {
  for (const name of ['undisturbed', 'interrupted']) await client?.db(`upshift_resume_${name}_${stamp}`).dropDatabase().catch(() => undefined);
  await client?.close();
});

/** A deterministic stream of numbers in [0, 1) (the same application writes in both twins). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** The application's writes after the migration: untouched fields, migrated paths, new customers at the new version, deletions. */
async function applicationWrites(customers: Collection<Document>): Promise<void> {
  const next = random(13);
  const pick = () => ({ _id: customerId(1 + Math.floor(next() * documents)) } as unknown as Document);
  for (let n = 0; n < 400; n += 1) {
    const roll = next();
    if (roll < 0.3) await customers.updateOne(pick(), { $set: { email: `app${n}@example.com` } });
    else if (roll < 0.55) await customers.updateOne(pick(), { $set: { 'profile.phone': `+44 ${n}` } });
    else if (roll < 0.7) await customers.updateOne(pick(), { $set: { phone: `flat ${n}` } });
    else if (roll < 0.85) await customers.insertOne(insertedCustomer(`${customerId(1 + Math.floor(next() * documents))}-new${n}`, n, 2));
    else await customers.deleteOne(pick());
  }
}

/** A twin: seeded, migrated in 4 shards, then written to by the application. */
async function twin(name: string, hooks: { beforeWrite?: (phase: 'backfill' | 'restore', keys: string[]) => Promise<void> } = {}): Promise<{ db: Db; engine: MigrationEngine; ranges: KeyRange[] }> {
  const db = client.db(`upshift_resume_${name}_${stamp}`);
  await db.dropDatabase();
  await seedCustomers(db.collection('customers'), documents);
  const engine = createMongoEngine({ ...migration, database: db.databaseName }, { connectionString: process.env.MONGODB_URL ?? '', hooks });
  await engine.expand('run-resume');
  const ranges = await engine.splitShards(4);
  await migrateAllShards(engine, ranges, { concurrency: 2, batchSize: 500 });
  await applicationWrites(db.collection('customers'));
  return { db, engine, ranges };
}

const scope = (index: number) => ({ runId: 'run-resume', shardId: `run-resume:${index}` });

async function snapshot(db: Db): Promise<{ documents: string[]; findings: string[] }> {
  const documents = (await db.collection('customers').find({}).sort({ _id: 1 }).toArray()).map(fieldwise);
  const findings = (await db.collection('upshift_conflicts').find({}).sort({ _id: 1 }).toArray()).map(({ recordedAt: _at, ...finding }) => fieldwise(finding));
  return { documents, findings };
}

test('a restore interrupted part-way (a sub-range, then a crash before a write) and run again matches an undisturbed one: data, findings, totals', async () => {
  const undisturbed = await twin('undisturbed');
  let crashAt = -1;
  let restoreWrites = 0;
  const interrupted = await twin('interrupted', {
    beforeWrite: async (phase) => {
      if (phase !== 'restore') return;
      restoreWrites += 1;
      if (restoreWrites === crashAt) throw new Error('simulated crash between recording findings and writing');
    },
  });
  try {
    assert.deepEqual(interrupted.ranges, undisturbed.ranges, 'the twins split alike');
    const expected: RestoreResult[] = [];
    for (const [index, range] of undisturbed.ranges.entries()) expected.push(await undisturbed.engine.restoreShard(range, scope(index)));
    assert.ok(expected.reduce((sum, result) => sum + result.conflicts, 0) > 0 && expected.reduce((sum, result) => sum + result.created, 0) > 0, 'the twin has conflicts and created customers to report');

    // Shard 0: first only its first half, as a worker that stopped there would have.
    const first = interrupted.ranges[0] as KeyRange;
    const middle = await interrupted.db.collection('customers').find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).skip(Math.floor(documents / 8)).limit(1).next();
    await interrupted.engine.restoreShard({ start: first.start, end: encodeKey(middle?._id) }, scope(0));
    // Shard 1: crashes at its third chunk write, after that chunk's findings are recorded.
    restoreWrites = 0;
    crashAt = 3;
    await assert.rejects(interrupted.engine.restoreShard(interrupted.ranges[1] as KeyRange, scope(1)), /simulated crash/);
    crashAt = -1;
    const results: RestoreResult[] = [];
    for (const [index, range] of interrupted.ranges.entries()) results.push(await interrupted.engine.restoreShard(range, scope(index)));

    assert.deepEqual(results, expected, 'the same totals and first findings per shard');
    const [want, got] = [await snapshot(undisturbed.db), await snapshot(interrupted.db)];
    assert.equal(got.documents.length, want.documents.length);
    assert.deepEqual(got.documents, want.documents, 'the same documents');
    assert.deepEqual(got.findings, want.findings, 'the same findings, each recorded once');
  } finally {
    await undisturbed.engine.close();
    await interrupted.engine.close();
  }
});
