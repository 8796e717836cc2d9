import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  brokersFrom, connectProducer, consume, createEvent, ensureTopics, fixture, topicEnd, type AnyUpshiftEvent, type KafkaConnection,
} from '@upshift/events';
import { createKafka, deletePrefixedTopics } from '@upshift/runtime';
import { examplePolicy, upshift } from './support/run.ts';

const brokers = brokersFrom(process.env.KAFKA_BROKERS);
const needsKafka = brokers.length === 0 ? 'KAFKA_BROKERS not set: eval "$(node stack/src/cli.ts env)" with the stack up' : false;
const connection: KafkaConnection = { clientId: 'upshift-cli-test', brokers, logs: 'none' };

async function planTopicConsumer(seen: AnyUpshiftEvent[]): Promise<{ stop: () => Promise<void> }> {
  await ensureTopics(connection);
  const start = await topicEnd(connection, 'upshift.plan');
  return consume(connection, { 'upgrade.requested': (_data, event) => void seen.push(event) }, { startOffsets: start, maxWaitMs: 200 });
}

function waitFor<T>(seen: T[], predicate: (value: T) => boolean, ms = 30_000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const hit = seen.find(predicate);
      if (hit !== undefined) { clearInterval(timer); resolve(hit); }
      else if (Date.now() - started > ms) { clearInterval(timer); reject(new Error('not seen in time')); }
    }, 50);
  });
}

test('upshift request publishes a request a typed consumer receives with the printed run id', { skip: needsKafka }, async () => {
  const seen: AnyUpshiftEvent[] = [];
  const subscription = await planTopicConsumer(seen);
  try {
    const { code, stdout, stderr } = await upshift(['request', examplePolicy]);
    assert.equal(code, 0, stderr);
    const runId = stdout.trim();
    assert.match(runId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv7');
    const received = await waitFor(seen, (e) => e.data.runId === runId);
    assert.equal(received.type, 'dev.upshift.upgrade.requested.v1');
    assert.equal(received.source, '/upshift/cli');
  } finally {
    await subscription.stop();
  }
});

/** Publishes a terminal event of `runId` to the lifecycle topic (under `prefix`, if given). */
async function answer(runId: string, name: 'upgrade.completed' | 'upgrade.rolled-back', prefix = ''): Promise<void> {
  const event = createEvent(name, { ...fixture(name).data, runId }, { producer: 'verify', id: `${runId}-${name}${prefix ? `-${prefix}` : ''}` });
  const producer = await connectProducer(connection);
  await producer.publish([event], { topicPrefix: prefix }).finally(() => producer.close());
}

for (const [terminal, exitCode] of [['upgrade.completed', 0], ['upgrade.rolled-back', 1]] as const) {
  test(`request --wait exits ${exitCode} when the run ends with ${terminal}`, { skip: needsKafka }, async () => {
    const runId = `t-${Date.now().toString(36)}-${terminal.replace(/\W/g, '')}`;
    let answered: Promise<void> | undefined;
    const outcome = await upshift(['request', examplePolicy, '--wait', '--timeout', '60', '--run-id', runId], process.env, (out) => {
      if (out.includes(runId) && answered === undefined) answered = answer(runId, terminal);
    });
    await answered;
    assert.equal(outcome.code, exitCode, outcome.stderr);
    assert.match(outcome.stderr, new RegExp(`run ${runId}: ${terminal}`));
  });
}

test('request --wait gives up after --timeout and exits 1', { skip: needsKafka }, async () => {
  const outcome = await upshift(['request', examplePolicy, '--wait', '--timeout', '2', '--run-id', `t-timeout-${Date.now().toString(36)}`]);
  assert.equal(outcome.code, 1);
  assert.match(outcome.stderr, /did not end within 2s/);
});

/** A topic prefix of this test only; `remove` deletes what was created under it. */
function testPrefix(name: string): { prefix: string; remove: () => Promise<void> } {
  const prefix = `cli-${name}-${Date.now().toString(36)}.`;
  return {
    prefix,
    remove: async () => {
      const admin = createKafka(brokers, 'upshift-cli-test').admin();
      await admin.connect();
      await deletePrefixedTopics(admin, prefix).finally(() => admin.disconnect());
    },
  };
}

test('request honours UPSHIFT_TOPIC_PREFIX: the request lands on the prefixed plan topic', { skip: needsKafka }, async () => {
  const topics = testPrefix('env');
  try {
    const { code, stdout, stderr } = await upshift(['request', examplePolicy], { ...process.env, UPSHIFT_TOPIC_PREFIX: topics.prefix });
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`topics ${topics.prefix.replace(/\./g, '\\.')}\\*`));
    const runId = stdout.trim();
    const seen: AnyUpshiftEvent[] = [];
    const subscription = await consume(connection, { 'upgrade.requested': (_data, event) => void seen.push(event) }, { topicPrefix: topics.prefix, fromBeginning: true, maxWaitMs: 200 });
    try {
      const received = await waitFor(seen, (e) => e.data.runId === runId);
      assert.equal(received.source, '/upshift/cli');
    } finally {
      await subscription.stop();
    }
  } finally {
    await topics.remove();
  }
});

test('request --wait --topic-prefix follows the prefixed lifecycle topic, not the unprefixed one', { skip: needsKafka }, async () => {
  const topics = testPrefix('wait');
  const runId = `t-${Date.now().toString(36)}-prefixed`;
  try {
    let answered: Promise<void> | undefined;
    const outcome = await upshift(['request', examplePolicy, '--wait', '--timeout', '60', '--run-id', runId, '--topic-prefix', topics.prefix], process.env, (out) => {
      // A decoy on the unprefixed topic first: a CLI following the wrong topic would end with it.
      if (out.includes(runId) && answered === undefined) answered = answer(runId, 'upgrade.completed').then(() => answer(runId, 'upgrade.rolled-back', topics.prefix));
    });
    await answered;
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.match(outcome.stderr, new RegExp(`run ${runId}: upgrade.rolled-back`));
  } finally {
    await topics.remove();
  }
});
