import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import {
  connectProducer, consume, ContractViolation, createEvent, decodeKafka, ensureTopics, fixture, onLifecycle,
  publishUpgradeRequest, topicEnd, topics, watchRun, type AnyUpshiftEvent, type ConsumedRecord, type UpgradePolicy,
} from '../src/index.ts';
import { brokers, connection, eventually, kcat, needsKafka, needsKcat, testRunId } from './support/kafka.ts';

/** A bare kafkajs client: the tests look at (and write to) the broker without the package under test. */
const bare = new Kafka({ clientId: 'upshift-events-test', brokers, logLevel: logLevel.NOTHING });

async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = bare.admin();
  await admin.connect();
  try { return await work(admin); } finally { await admin.disconnect(); }
}

/** Publishes `events` with a producer of the package, closing it after. */
async function publish(events: readonly AnyUpshiftEvent[], topicPrefix?: string) {
  const producer = await connectProducer(connection);
  return producer.publish(events, topicPrefix ? { topicPrefix } : {}).finally(() => producer.close());
}

function completedFor(runId: string): AnyUpshiftEvent {
  const golden = fixture('upgrade.completed');
  return createEvent('upgrade.completed', { ...golden.data, runId }, {
    producer: 'verify', id: `${runId}-completed`, time: golden.time, ...(golden.traceparent ? { traceparent: golden.traceparent } : {}),
  });
}

test('ensureTopics creates every catalogue topic with its partition count, idempotently', { skip: needsKafka }, async () => {
  await ensureTopics(connection);
  assert.deepEqual(await ensureTopics(connection), []);
  await withAdmin(async (admin) => {
    const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
    for (const t of topics) {
      const found = metadata.topics.find((m) => m.name === t.topic);
      assert.equal(found?.partitions.length, t.partitions, t.topic);
    }
  });
});

test('a binary-mode CloudEvent produced by kcat decodes to the typed event', { skip: needsKcat }, async () => {
  const expected = completedFor(testRunId());
  await ensureTopics(connection);
  const start = await topicEnd(connection, 'upshift.lifecycle');
  const seen: AnyUpshiftEvent[] = [];
  const subscription = await onLifecycle(connection, { 'upgrade.completed': (_data, event) => void seen.push(event) }, { startOffsets: start, maxWaitMs: 200 });
  try {
    const headers = {
      ce_specversion: '1.0', ce_id: expected.id, ce_source: expected.source, ce_type: expected.type, ce_time: expected.time,
      ce_subject: expected.subject, ce_traceparent: expected.traceparent ?? '', 'content-type': 'application/json',
    };
    kcat(['-P', '-t', 'upshift.lifecycle', '-k', expected.partitionkey, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`])], `${JSON.stringify(expected.data)}\n`);
    const received = await eventually(seen, (e) => e.id === expected.id);
    assert.deepEqual(received, expected);
    assert.equal(received.data.runId, expected.data.runId);
  } finally {
    await subscription.stop();
  }
});

test('an event we produce is read back by kcat with ce_ headers, key and JSON body', { skip: needsKcat }, async () => {
  const event = fixture('shard.requested');
  const [meta] = await publish([event]);
  assert.ok(meta);
  const line = kcat(['-C', '-t', meta.topic, '-p', String(meta.partition), '-o', meta.offset, '-c', '1', '-e', '-q', '-J']);
  const record = JSON.parse(line) as { key: string; payload: string; headers: string[] };
  const headers = new Map<string, string>();
  for (let i = 0; i + 1 < record.headers.length; i += 2) headers.set(record.headers[i] ?? '', record.headers[i + 1] ?? '');
  assert.equal(meta.topic, 'upshift.migrate-shard');
  assert.equal(record.key, event.data.shardId);
  assert.deepEqual(JSON.parse(record.payload), event.data);
  assert.equal(headers.get('ce_specversion'), '1.0');
  assert.equal(headers.get('ce_id'), event.id);
  assert.equal(headers.get('ce_type'), 'dev.upshift.shard.requested.v1');
  assert.equal(headers.get('ce_source'), '/upshift/migrate-shard');
  assert.equal(headers.get('ce_subject'), event.data.shardId);
  assert.equal(headers.get('ce_time'), event.time);
  assert.equal(headers.get('ce_traceparent'), event.traceparent);
  assert.equal(headers.get('content-type'), 'application/json');
});

test('publishUpgradeRequest reaches a typed upgrade.requested consumer with the same run id', { skip: needsKafka }, async () => {
  const policy = fixture('upgrade.requested').data.policy as unknown as UpgradePolicy;
  await ensureTopics(connection);
  const start = await topicEnd(connection, 'upshift.plan');
  const seen: AnyUpshiftEvent[] = [];
  const subscription = await consume(connection, { 'upgrade.requested': (_data, event) => void seen.push(event) }, { startOffsets: start, maxWaitMs: 200 });
  try {
    const structured = await publishUpgradeRequest(connection, policy, { mode: 'structured', runId: testRunId() });
    const published = await publishUpgradeRequest(connection, policy, { requestedBy: 'events-test' });
    const received = await eventually(seen, (e) => e.data.runId === published.runId);
    assert.equal(received.id, published.eventId);
    assert.equal(received.traceparent?.split('-')[1], published.traceId);
    assert.equal(received.source, '/upshift/cli');
    await eventually(seen, (e) => e.data.runId === structured.runId);
  } finally {
    await subscription.stop();
  }
});

test('watchRun resolves with the run\'s terminal lifecycle event and ignores other runs', { skip: needsKafka }, async () => {
  const runId = testRunId();
  const watch = await watchRun(connection, runId, { maxWaitMs: 200 });
  try {
    await publish([completedFor(testRunId()), completedFor(runId)]);
    const end = await watch.terminal;
    assert.equal(end.data.runId, runId);
  } finally {
    await watch.stop();
  }
});

/** A topic prefix of this test only; `remove` deletes the topics created under it. */
function testPrefix(): { prefix: string; remove: () => Promise<void> } {
  const prefix = `events-${testRunId()}.`;
  const remove = () => withAdmin(async (admin) => {
    const names = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
    if (names.length > 0) await admin.deleteTopics({ topics: names });
  });
  return { prefix, remove };
}

test('under a topic prefix: ensureTopics, publish, watchRun and a consumer all use the prefixed topics', { skip: needsKafka }, async () => {
  const { prefix, remove } = testPrefix();
  try {
    const created = await ensureTopics(connection, { topicPrefix: prefix });
    assert.deepEqual([...created].sort(), topics.map((t) => `${prefix}${t.topic}`).sort());
    const runId = testRunId();
    const seen: AnyUpshiftEvent[] = [];
    const watch = await watchRun(connection, runId, { topicPrefix: prefix, onEvent: (event) => void seen.push(event), maxWaitMs: 200 });
    try {
      const written = await publish([completedFor(runId)], prefix);
      assert.deepEqual(written.map((w) => w.topic), [`${prefix}upshift.lifecycle`]);
      assert.equal((await watch.terminal).data.runId, runId);
      assert.deepEqual(seen.map((e) => e.id), [`${runId}-completed`]);
    } finally {
      await watch.stop();
    }
  } finally {
    await remove();
  }
});

test('a message that breaks the contract reaches onInvalid as a ConsumedRecord, and the consumer goes on', { skip: needsKafka }, async () => {
  const { prefix, remove } = testPrefix();
  try {
    await ensureTopics(connection, { topicPrefix: prefix });
    const invalid: { error: ContractViolation; record: ConsumedRecord }[] = [];
    const seen: AnyUpshiftEvent[] = [];
    const subscription = await onLifecycle(connection, { 'upgrade.completed': (_data, event) => void seen.push(event) }, {
      topicPrefix: prefix, fromBeginning: true, maxWaitMs: 200, onInvalid: (error, record) => void invalid.push({ error, record }),
    });
    try {
      const producer = bare.producer();
      await producer.connect();
      await producer.send({ topic: `${prefix}upshift.lifecycle`, messages: [{ key: 'not-an-event', value: '{}', headers: { origin: 'test' } }] })
        .finally(() => producer.disconnect());
      const runId = testRunId();
      await publish([completedFor(runId)], prefix);
      await eventually(seen, (e) => e.data.runId === runId);
      const first = await eventually(invalid, (i) => i.record.key?.toString() === 'not-an-event');
      assert.equal(first.record.topic, `${prefix}upshift.lifecycle`);
      assert.equal(typeof first.record.partition, 'number');
      assert.match(first.record.offset, /^\d+$/);
      assert.equal(first.record.key?.toString(), 'not-an-event');
      assert.equal(first.record.headers['origin']?.toString(), 'test');
      assert.throws(() => decodeKafka(first.record), ContractViolation);
    } finally {
      await subscription.stop();
    }
  } finally {
    await remove();
  }
});
