/**
 * The MongoDB half of the online benchmark (issue 20), on the stack's FerretDB at sizes it can take:
 * the same open-loop writer (80 % updateOne of a random existing `_id`, 20 % insertOne) alone, during
 * the server's own updateMany, and during upshift's backfill by the default policy. FerretDB gives no
 * lock queues or replication lag (`serverStatus` has no `globalLock`, no `replSetGetStatus`): the store
 * throttle says so and falls back to batch time and the shared budget.
 */
import { MongoClient } from 'mongodb';
import { createMongoEngine, MongoMigrationFile } from '@upshift/migrations';
import { onlineRounds, onlineVariants, printPhases, upshiftBackfill, variantOf, withWriter, writerAlone, type BackfillResult } from './online.ts';
import { addRound, type PhaseRuns } from './online-phases.ts';
import { newBatchRecord } from './online-batches.ts';
import type { StoreWriter } from './online-writer.ts';

const docs = Number(process.env.BENCH_ONLINE_DOCS ?? 20_000);
const print = (line: string) => process.stdout.write(`${line}\n`);
const idOf = (key: number) => `c${String(key).padStart(8, '0')}`;

interface Customer {
  _id: string;
  name: string;
  note: string;
  schemaVersion: number;
}

/** The figures of the MongoDB store at `mongoUrl`; the shared budget lives in the control store at `controlUrl`. */
export async function benchOnlineMongo(mongoUrl: string, controlUrl: string): Promise<void> {
  const database = `upshift_online_${process.pid}`;
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 0, maxPoolSize: 32 });
  const db = client.db(database);
  const seed = async (name: string) => {
    for (let start = 0; start < docs; start += 5000) {
      await db.collection<Customer>(name).insertMany(Array.from({ length: Math.min(5000, docs - start) }, (_, i) => ({
        _id: idOf(start + i + 1), name: `Customer ${start + i}`, note: '', schemaVersion: 1,
      })));
    }
  };
  const writer = (name: string): StoreWriter => ({
    update: async (key, note) => { await db.collection<Customer>(name).updateOne({ _id: idOf(key) }, { $set: { note } }); },
    insert: async (key, note) => { await db.collection<Customer>(name).insertOne({ _id: idOf(key), name: 'new', note, schemaVersion: 1 }); },
  });
  try {
    await Promise.all(Array.from({ length: 16 }, () => db.command({ ping: 1 })));
    const phases = new Map<string, PhaseRuns>();
    for (let round = 0; round < onlineRounds; round += 1) {
      await db.dropDatabase();
      await seed('raw');
      addRound(phases, 'alone', { ms: 0, writer: await writerAlone(writer('raw'), docs) });
      let changed = 0;
      const raw = await withWriter(writer('raw'), docs, async () => {
        changed = (await db.collection('raw').updateMany({ schemaVersion: 1 }, { $set: { 'profile.tier': 'standard', schemaVersion: 2 } })).modifiedCount;
      });
      addRound(phases, 'raw', { ...raw, changed });
      for (const name of onlineVariants) {
        const collection = `online_${name.replaceAll('-', '_')}`;
        await seed(collection);
        const file = MongoMigrationFile.parse({
          apiVersion: 'upshift.dev/v1alpha1', kind: 'Migration', name: `online-${name}`, version: 1, store: 'mongodb', connection: 'BENCH_MONGODB_URL',
          database, collection, marker: { field: 'schemaVersion', from: 1, to: 2 }, backfill: { set: { 'profile.tier': 'standard' } },
        });
        const migration = { ...file, ref: `online-${name}@1`, file: '(bench)', checksum: '' };
        const env = { BENCH_MONGODB_URL: mongoUrl };
        const variant = variantOf(name);
        const engine = createMongoEngine(migration, { connectionString: mongoUrl, ...(variant.writesPerCommand === undefined ? {} : { writesPerCommand: variant.writesPerCommand }) });
        let result: BackfillResult = { changed: 0, retried: 0, states: new Map<string, number>(), batches: newBatchRecord() };
        const during = await withWriter(writer(collection), docs, async () => { result = await upshiftBackfill(engine, migration, env, variant, controlUrl); });
        await engine.dropBackups();
        await engine.close();
        addRound(phases, name, { ...during, ...result });
      }
    }
    print(`MongoDB wire protocol (${mongoUrl.includes('27117') ? 'the stack\'s FerretDB' : 'MONGODB_URL'}), ${docs} documents, same writer, ${onlineRounds} round(s) pooled:`);
    printPhases(phases, 'server\'s updateMany');
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}
