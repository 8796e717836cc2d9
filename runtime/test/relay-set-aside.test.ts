/**
 * One outbox row that can never be published does not stop the relay (real PostgreSQL and Kafka): an
 * oversized record between two good ones — the good ones are published in order, the big one is set
 * aside with its reason in the outbox and reported in the log, and the relay goes on publishing. Both
 * the relay's own limit and the broker's (a topic whose `max.message.bytes` is lower) are covered.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createEvent, LIFECYCLE_TOPIC } from '@upshift/events';
import { pino } from 'pino';
import { migrateStore } from '../src/store/migrate.ts';
import { setAsideRows, storeOutputs, type OutboxEntry } from '../src/store/outbox.ts';
import { createPool, withTransaction } from '../src/store/pool.ts';
import { OutboxRelay } from '../src/store/relay.ts';
import { createKafka, KafkaPublisher } from '../src/transport/kafka.ts';
import { brokersOf, collect, eventually, freshDatabase, freshTopics, stackEnv, uniqueSuffix } from './support/stack.ts';

const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let topics: Awaited<ReturnType<typeof freshTopics>>;
let pool: ReturnType<typeof createPool>;
let publisher: KafkaPublisher;
const lifecycle = () => `${topics.prefix}${LIFECYCLE_TOPIC}`;

before(async () => {
  db = await freshDatabase(env);
  topics = await freshTopics(env);
  pool = createPool(db.url, { max: 4 });
  await migrateStore(pool);
  publisher = new KafkaPublisher(createKafka(brokersOf(env), 'upshift-test-relay'));
});

after(async () => {
  await publisher?.close();
  await pool?.end();
  await topics?.remove();
  await db?.drop();
});

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: Array<{ msg: string; level: number; reason?: string; id?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { log: pino({ level: 'info', messageKey: 'msg' }, stream), lines };
}

/** An `upgrade.rejected` of the run (one run per test: one partition, so the topic keeps their order) with `problems` problems of 500 characters each (a valid event of any size). */
function rejection(runId: string, problems: number): OutboxEntry {
  const data = { runId, code: 'invalid-policy' as const, reason: 'test', problems: Array.from({ length: problems }, (_, i) => ({ path: `spec.x[${i}]`, message: 'm'.repeat(500) })) };
  const event = createEvent('upgrade.rejected', data, { producer: 'plan' });
  return { source: event.source, id: event.id, type: event.type, topic: lifecycle(), partitionKey: runId, event: event as unknown as Record<string, unknown> };
}

async function store(entries: OutboxEntry[]): Promise<void> {
  await withTransaction(pool, (tx) => storeOutputs(tx, { consumer: 'plan', source: '/test', id: uniqueSuffix() }, entries));
}

async function outboxState(ids: string[]): Promise<Array<{ id: string; sent: boolean; failure: string | null }>> {
  const { rows } = await pool.query<{ id: string; sent: boolean; failure: string | null }>(
    'SELECT id, sent_at IS NOT NULL AS sent, failure FROM upshift.outbox WHERE id = ANY($1::text[]) ORDER BY seq', [ids]);
  return rows;
}

/** Runs a relay over the rows until `ids` are all sent or set aside; returns what the lifecycle topic got and the log. */
async function relayUntilSettled(ids: string[], options: { maxRecordBytes?: number }) {
  const { log, lines } = capturedLogger();
  const collector = await collect(env, lifecycle());
  const relay = new OutboxRelay({ pool, databaseUrl: db.url, publisher, log, pollMs: 200, ...options });
  await relay.start();
  try {
    const settled = await eventually(async () => {
      const rows = await outboxState(ids);
      return rows.length === ids.length && rows.every((row) => row.sent || row.failure) ? rows : undefined;
    }, 30_000);
    return { settled, collector, lines, relay };
  } catch (err) {
    await relay.stop();
    await collector.stop();
    throw err;
  }
}

test('a record over the relay\'s limit is set aside; the records around it are published in order', { timeout: 60_000 }, async () => {
  const [good1, big, good2] = [rejection('run-a', 1), rejection('run-a', 200), rejection('run-a', 1)] as [OutboxEntry, OutboxEntry, OutboxEntry];
  await store([good1, big, good2]);
  const { settled, collector, lines, relay } = await relayUntilSettled([good1.id, big.id, good2.id], { maxRecordBytes: 50_000 });
  try {
    assert.deepEqual(settled.map((row) => [row.id, row.sent]), [[good1.id, true], [big.id, false], [good2.id, true]]);
    assert.match(settled[1]?.failure ?? '', /^a record of \d+ bytes is larger than the relay's limit of 50000 bytes/);
    await collector.waitFor(2);
    assert.deepEqual(collector.events().map((e) => e.id), [good1.id, good2.id]);
    assert.ok(lines.some((line) => line.msg === 'outbox record set aside: it cannot be published' && line.id === big.id && line.level === 50), JSON.stringify(lines));
    const later = rejection('run-a', 1);
    await store([later]);
    relay.wake();
    await collector.waitFor(3);
    assert.deepEqual(collector.events().map((e) => e.id), [good1.id, good2.id, later.id], 'the relay goes on publishing');
    assert.deepEqual((await setAsideRows(pool)).map((row) => row.id), [big.id]);
  } finally {
    await relay.stop();
    await collector.stop();
  }
});

test('a record the broker refuses as too large is set aside; the records around it are published', { timeout: 60_000 }, async () => {
  const admin = createKafka(brokersOf(env), 'upshift-test-relay-admin').admin();
  await admin.connect();
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: lifecycle(), configEntries: [{ name: 'max.message.bytes', value: '40000' }] }] });
  await admin.disconnect();
  const [good1, big, good2] = [rejection('run-b', 1), rejection('run-b', 150), rejection('run-b', 1)] as [OutboxEntry, OutboxEntry, OutboxEntry];
  await store([good1, big, good2]);
  const { settled, collector, lines, relay } = await relayUntilSettled([good1.id, big.id, good2.id], {});
  try {
    assert.deepEqual(settled.map((row) => [row.id, row.sent]), [[good1.id, true], [big.id, false], [good2.id, true]]);
    assert.match(settled[1]?.failure ?? '', /^a record of \d+ bytes is larger than the broker accepts/);
    await eventually(async () => (collector.events().some((e) => e.id === good2.id) ? true : undefined));
    const ids = collector.events().map((e) => e.id);
    assert.ok(!ids.includes(big.id));
    assert.ok(ids.indexOf(good1.id) < ids.indexOf(good2.id), 'in order');
    assert.ok(lines.some((line) => line.id === big.id && /broker accepts/.test(line.reason ?? '')), JSON.stringify(lines));
  } finally {
    await relay.stop();
    await collector.stop();
  }
});
