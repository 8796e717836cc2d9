/**
 * The engine's MongoDB connections cut three times while a shard runs (a TCP proxy between the engine
 * and the server drops every socket, as a failover or a network blip does): the batch that meets the
 * cut fails as a retriable UNAVAILABLE, nothing kills the process, and the shard resumed from its last
 * checkpoint migrates every document exactly as the catalog says. The shard's page cursor dies with
 * its connection; a dead cursor reads as exhausted, so reusing it would end the shard early.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { createMongoEngine, initialCheckpoint, isMigrationError, loadCatalog, migrationByRef, runShard } from '../src/index.ts';
import type { MigrationEngine, ShardCheckpoint } from '../src/index.ts';
import { fieldwise, migratedByHand, seedCustomers } from './helpers/customers-writer.ts';

const documents = 600;
let client: MongoClient;
let db: Db;
let engine: MigrationEngine;
let proxy: { url: string; cut: () => number; close: () => Promise<void> };

/** A TCP proxy to the server of `target`; `cut` destroys every open connection through it. */
async function startProxy(target: URL): Promise<typeof proxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((incoming) => {
    const outgoing = connect(Number(target.port || 27017), target.hostname);
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    incoming.pipe(outgoing).pipe(incoming);
    incoming.on('close', () => outgoing.destroy());
    outgoing.on('close', () => incoming.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    cut: () => {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      return count;
    },
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

before(async () => {
  assert.ok(process.env.MONGODB_URL, 'MONGODB_URL must be set (run through npm test)');
  client = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
  db = client.db(`upshift_dropped_${process.pid}_${Date.now() % 1_000_000}`);
  await seedCustomers(db.collection('customers'), documents);
  proxy = await startProxy(new URL(process.env.MONGODB_URL));
  const migration = migrationByRef(loadCatalog(fileURLToPath(new URL('../../examples/catalog', import.meta.url))), 'customers-profile@1');
  if (migration.store !== 'mongodb') throw new Error('customers-profile@1 is a MongoDB migration');
  engine = createMongoEngine({ ...migration, database: db.databaseName }, { connectionString: proxy.url });
  await engine.expand('run-dropped');
});

after(async () => {
  await engine?.close();
  await proxy?.close();
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

test('a shard whose connections are cut 3 times resumes from its checkpoint; every document migrated as the catalog says', { timeout: 120_000 }, async () => {
  const before = await db.collection('customers').find({}).sort({ _id: 1 }).toArray();
  let checkpoint: ShardCheckpoint = initialCheckpoint(40);
  const cutAfterBatch = new Set([2, 5, 9]);
  let batches = 0;
  let cuts = 0;
  const failures: string[] = [];
  while (!checkpoint.done) {
    try {
      checkpoint = await runShard({
        engine, shard: { range: { start: null, end: null }, backup: true }, checkpoint,
        limits: { targetMs: 1000, min: 40, max: 40, maxGrowth: 1, maxShrink: 1 },
        onBatch: async (committed) => {
          checkpoint = committed;
          batches += 1;
          // Between two batches: the shard's page cursor stays open on a connection that is now gone.
          if (cutAfterBatch.has(batches) && proxy.cut() > 0) cuts += 1;
        },
      });
    } catch (error) {
      assert.ok(isMigrationError(error, 'UNAVAILABLE'), `a cut connection is retriable: ${String(error)}`);
      failures.push(error.message);
    }
  }
  console.log(`${cuts} cuts, ${failures.length} batches failed: ${[...new Set(failures)].join(' | ')}`);
  assert.equal(cuts, 3);
  assert.ok(failures.length >= 1, 'a cut failed a batch (the next read of the dead cursor)');
  assert.equal(checkpoint.scanned, documents, 'every document scanned once across the resumptions');
  const after = await db.collection('customers').find({}).sort({ _id: 1 }).toArray();
  assert.deepEqual(after.map(fieldwise), before.map((document) => fieldwise(migratedByHand(document))));
});
