import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import {
  connectProducer, consume, createEvent, ensureTopics, fixture, kafkaClient, onLifecycle, publishEvents,
  publishUpgradeRequest, topicEnd, topics, watchRun, type AnyUpshiftEvent, type UpgradePolicy,
} from '../src/index.ts';
import { eventually, kafkaConfig, kcat, needsKafka, needsKcat, testRunId } from './support/kafka.ts';

async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(kafkaConfig).admin();
  await admin.connect();
  try { return await work(admin); } finally { await admin.disconnect(); }
}

function completedFor(runId: string): AnyUpshiftEvent {
  const golden = fixture('upgrade.completed');
  return createEvent('upgrade.completed', { ...golden.data, runId }, {
    producer: 'verify', id: `${runId}-completed`, time: golden.time, ...(golden.traceparent ? { traceparent: golden.traceparent } : {}),
  });
}

test('ensureTopics creates every catalogue topic with its partition count, idempotently', { skip: needsKafka }, async () => {
  await withAdmin(async (admin) => {
    await ensureTopics(admin);
    assert.deepEqual(await ensureTopics(admin), []);
    const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
    for (const t of topics) {
      const found = metadata.topics.find((m) => m.name === t.topic);
      assert.equal(found?.partitions.length, t.partitions, t.topic);
    }
  });
});

test('a binary-mode CloudEvent produced by kcat decodes to the typed event', { skip: needsKcat }, async () => {
  const expected = completedFor(testRunId());
  const start = await withAdmin(async (admin) => { await ensureTopics(admin); return topicEnd(admin, 'upshift.lifecycle'); });
  const seen: AnyUpshiftEvent[] = [];
  const subscription = await onLifecycle(kafkaConfig, { 'upgrade.completed': (_data, event) => void seen.push(event) }, { startOffsets: start });
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
  const producer = await connectProducer(kafkaClient(kafkaConfig));
  const [meta] = await publishEvents(producer, [event]).finally(() => producer.disconnect());
  assert.ok(meta);
  const line = kcat(['-C', '-t', meta.topicName, '-p', String(meta.partition), '-o', String(meta.baseOffset ?? meta.offset), '-c', '1', '-e', '-q', '-J']);
  const record = JSON.parse(line) as { key: string; payload: string; headers: string[] };
  const headers = new Map<string, string>();
  for (let i = 0; i + 1 < record.headers.length; i += 2) headers.set(record.headers[i] ?? '', record.headers[i + 1] ?? '');
  assert.equal(meta.topicName, 'upshift.migrate-shard');
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
  const start = await withAdmin(async (admin) => { await ensureTopics(admin); return topicEnd(admin, 'upshift.plan'); });
  const seen: AnyUpshiftEvent[] = [];
  const subscription = await consume(kafkaConfig, { 'upgrade.requested': (_data, event) => void seen.push(event) }, { startOffsets: start });
  try {
    const structured = await publishUpgradeRequest(kafkaConfig, policy, { mode: 'structured', runId: testRunId() });
    const published = await publishUpgradeRequest(kafkaConfig, policy, { requestedBy: 'events-test' });
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
  const watch = await watchRun(kafkaConfig, runId);
  try {
    const producer = await connectProducer(kafkaClient(kafkaConfig));
    await publishEvents(producer, [completedFor(testRunId()), completedFor(runId)]).finally(() => producer.disconnect());
    const end = await watch.terminal;
    assert.equal(end.data.runId, runId);
  } finally {
    await watch.stop();
  }
});
