/**
 * Which relays a commit wakes (real PostgreSQL, LISTEN/NOTIFY): outputs a function stores name its own
 * process's relay, so the relays of other instances are not woken to claim nothing; a writer with no
 * relay (a redrive) wakes every relay; rows whose relay is gone are published by another relay's poll.
 * Each relay's poll is a minute away here, so only a NOTIFY can wake it within the test.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEvent } from '@upshift/events';
import { pino } from 'pino';
import { migrateStore } from '../src/store/migrate.ts';
import { redriveEntry, storeOutputs, type OutboxEntry } from '../src/store/outbox.ts';
import { createPool, withTransaction } from '../src/store/pool.ts';
import { OutboxRelay } from '../src/store/relay.ts';
import { MemoryTransport } from '../src/transport/memory.ts';
import { eventually, freshDatabase, stackEnv } from './support/stack.ts';

const env = stackEnv();
const log = pino({ level: 'silent' });
let db: Awaited<ReturnType<typeof freshDatabase>>;

before(async () => {
  db = await freshDatabase(env);
  const pool = createPool(db.url, { max: 1 });
  await migrateStore(pool);
  await pool.end();
});

after(async () => {
  await db?.drop();
});

function anEntry(runId: string): OutboxEntry {
  const event = createEvent('migration.expand.requested', { runId, migrations: ['a@1'] }, { producer: 'cli' });
  return { source: event.source, id: event.id, type: event.type, topic: 'wakes.upshift.migrate-shard', partitionKey: runId, event: event as unknown as Record<string, unknown> };
}

/**
 * A relay with a publisher of its own, whose poll never comes during the test unless asked. Its first
 * drain has ended when this returns, so that drain cannot claim a row the test writes for another relay.
 */
async function startRelay(pool: ReturnType<typeof createPool>, pollMs = 60_000): Promise<{ relay: OutboxRelay; transport: MemoryTransport }> {
  const transport = new MemoryTransport();
  const relay = new OutboxRelay({ pool, databaseUrl: db.url, publisher: transport, log, pollMs });
  await relay.start();
  await relay.idle();
  return { relay, transport };
}

const subjects = (transport: MemoryTransport): string[] => transport.published.map((message) => String(message.event.subject));

test('outputs naming a relay wake that relay alone; a redrive wakes every relay, which then publishes what a stopped relay left', { timeout: 30_000 }, async () => {
  const pool = createPool(db.url, { max: 4 });
  const a = await startRelay(pool);
  const b = await startRelay(pool);
  try {
    assert.notEqual(a.relay.id, b.relay.id);
    await withTransaction(pool, (tx) => storeOutputs(tx, { consumer: 'rollout', source: '/test', id: 'in-1' }, [anEntry('for-a')], a.relay.id));
    await eventually(async () => (subjects(a.transport).includes('for-a') ? true : undefined), 5000);
    await withTransaction(pool, (tx) => storeOutputs(tx, { consumer: 'rollout', source: '/test', id: 'in-2' }, [anEntry('for-b')], b.relay.id));
    await eventually(async () => (subjects(b.transport).includes('for-b') ? true : undefined), 5000);
    assert.deepEqual(subjects(a.transport), ['for-a'], 'relay A was not woken by the commit that named B');
    assert.deepEqual(subjects(b.transport), ['for-b'], 'relay B was not woken by the commit that named A');

    // A's process is gone: its row waits for a relay that is woken some other way.
    await a.relay.stop();
    await withTransaction(pool, (tx) => storeOutputs(tx, { consumer: 'rollout', source: '/test', id: 'in-3' }, [anEntry('left-by-a')], a.relay.id));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(subjects(b.transport), ['for-b'], 'a NOTIFY naming another relay does not wake B');
    // A writer with no relay of its own (a redrive) names none: B wakes and publishes both rows.
    await withTransaction(pool, (tx) => redriveEntry(tx, anEntry('redriven')));
    await eventually(async () => (subjects(b.transport).includes('redriven') && subjects(b.transport).includes('left-by-a') ? true : undefined), 5000);
  } finally {
    await a.relay.stop();
    await b.relay.stop();
    await pool.end();
  }
});

test("a row whose relay is gone is published by another relay's poll", { timeout: 30_000 }, async () => {
  const pool = createPool(db.url, { max: 4 });
  const gone = await startRelay(pool);
  await gone.relay.stop();
  const polling = await startRelay(pool, 200);
  try {
    await withTransaction(pool, (tx) => storeOutputs(tx, { consumer: 'rollout', source: '/test', id: 'in-4' }, [anEntry('orphan')], gone.relay.id));
    await eventually(async () => (subjects(polling.transport).includes('orphan') ? true : undefined), 5000);
    assert.deepEqual(subjects(gone.transport), []);
  } finally {
    await polling.relay.stop();
    await pool.end();
  }
});
