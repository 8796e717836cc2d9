/**
 * The dev dispatcher against a stand-in function (a plain HTTP server) over real Kafka: it sends at
 * most the function's concurrency at once and queues the rest; a 429 from a full instance is retried
 * without spending the retries; and a record of the dead-letter topic that cannot be delivered is
 * committed and logged, never dead-lettered again.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { DEAD_LETTER_TOPIC, encodeKafka } from '@upshift/events';
import type { FunctionName, Topic } from '@upshift/events';
import { Dispatcher } from '@upshift/runtime/dev';
import type { DeliveryOutcome, RetryPolicy } from '@upshift/runtime/dev';
import { deadLetterRecord } from '../src/dev/dead-letter.ts';
import { createLogger } from '../src/log.ts';
import { createKafka } from '../src/transport/kafka.ts';
import { cliEvent, publishEvents } from './support/publish.ts';
import { brokersOf, collect, eventually, freshTopics, stackEnv } from './support/stack.ts';

const env = stackEnv();
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** A stand-in function: `answer` decides each request's status; counts requests in flight. */
async function standIn(answer: (state: { inFlight: number }) => Promise<number>) {
  const state = { inFlight: 0, maxInFlight: 0, requests: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests += 1;
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    req.resume();
    req.on('end', () => {
      answer(state).then((status) => {
        state.inFlight -= 1;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
      }, () => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, state };
}

/** A dispatcher for one target on fresh topics, collecting outcomes. */
async function dispatch(target: { functionName: FunctionName; url: string; concurrency?: number; topics?: readonly Topic[] }, retry: Partial<RetryPolicy>) {
  const topics = await freshTopics(env);
  cleanups.push(() => topics.remove());
  const outcomes: DeliveryOutcome[] = [];
  const dispatcher = new Dispatcher({
    kafka: createKafka(brokersOf(env), 'upshift-backpressure-test'), log: createLogger('backpressure-test', 'silent'),
    topicPrefix: topics.prefix, targets: [target], retry, onOutcome: (_target, outcome) => outcomes.push(outcome),
  });
  await dispatcher.start();
  cleanups.push(() => dispatcher.stop());
  return { prefix: topics.prefix, outcomes };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const expandRequests = (count: number, tag: string) =>
  Array.from({ length: count }, (_, i) => cliEvent('migration.expand.requested', { runId: `${tag}-${i}`, migrations: ['orders-currency@1'] }));

test('a busy function makes deliveries wait: never more than its concurrency in flight, nothing retried', { timeout: 60_000 }, async () => {
  const fn = await standIn(async () => { await sleep(150); return 200; });
  const { prefix, outcomes } = await dispatch({ functionName: 'migrate-shard', url: fn.url, concurrency: 2 }, { retries: 0 });
  await publishEvents(env, prefix, expandRequests(12, 'queued'));
  await eventually(async () => (outcomes.length >= 12 ? true : undefined), 45_000);
  assert.deepEqual(outcomes.map((o) => o.kind), Array<string>(12).fill('delivered'), 'no retries were needed (retries: 0)');
  assert.equal(fn.state.maxInFlight, 2, 'the function got its concurrency, never more');
  assert.equal(fn.state.requests, 12);
});

test('429 from a full instance is backpressure: retried without spending the retries, nothing dead-lettered', { timeout: 60_000 }, async () => {
  // One slot, as migrate-shard with UPSHIFT_SHARD_CONCURRENCY=1, while the dispatcher sends 4 at once.
  let busy = false;
  const fn = await standIn(async () => {
    if (busy) return 429;
    busy = true;
    await sleep(300); // long enough that a waiting delivery meets several 429s, whatever the machine's load
    busy = false;
    return 200;
  });
  const { prefix, outcomes } = await dispatch({ functionName: 'migrate-shard', url: fn.url, concurrency: 4 }, { retries: 1, backoffDelayMs: 50 });
  await publishEvents(env, prefix, expandRequests(8, 'throttled'));
  await eventually(async () => (outcomes.length >= 8 ? true : undefined), 45_000);
  assert.deepEqual(outcomes.map((o) => o.kind), Array<string>(8).fill('delivered'));
  const throttled = outcomes.reduce((sum, o) => sum + o.throttled, 0);
  console.log(`8 deliveries, ${throttled} answers of 429 on the way, none dead-lettered (retries: 1)`);
  const most = Math.max(...outcomes.map((o) => o.throttled));
  assert.ok(most > 1, `a delivery met ${most} answers of 429 and was still delivered with 1 retry: 429s do not spend retries (${throttled} in all)`);
});

test('a dead letter that cannot be delivered is committed and logged, never dead-lettered again', { timeout: 60_000 }, async () => {
  const fn = await standIn(async () => 500);
  const { prefix, outcomes } = await dispatch({ functionName: 'verify', url: fn.url, topics: [DEAD_LETTER_TOPIC] }, { retries: 2, backoffDelayMs: 20 });
  const deadLetters = await collect(env, `${prefix}${DEAD_LETTER_TOPIC}`);
  cleanups.push(() => deadLetters.stop());
  const original = encodeKafka(cliEvent('migration.expand.requested', { runId: 'dead-once', migrations: ['orders-currency@1'] }));
  const message = { key: Buffer.from(original.key), value: Buffer.from(original.value), headers: { ...original.headers } };
  const record = deadLetterRecord(message, { destination: 'http://migrate-shard/', status: 500, reason: 'retries exhausted' });
  const producer = createKafka(brokersOf(env), 'upshift-backpressure-test').producer();
  await producer.connect();
  await producer.send({ topic: `${prefix}${DEAD_LETTER_TOPIC}`, acks: -1, messages: [record] });
  await producer.disconnect();

  await eventually(async () => (outcomes.length >= 1 ? true : undefined), 30_000);
  assert.equal(outcomes[0]?.kind, 'dropped');
  assert.equal(outcomes[0]?.attempts, 3, 'retried as any delivery first');
  assert.equal(fn.state.requests, 3);
  const admin = createKafka(brokersOf(env), 'upshift-backpressure-test').admin();
  await admin.connect();
  try {
    const committed = await eventually(async () => {
      const [offsets] = await admin.fetchOffsets({ groupId: `${prefix}upshift-dispatcher-verify`, topics: [`${prefix}${DEAD_LETTER_TOPIC}`] });
      const total = (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      return total >= 1 ? total : undefined;
    }, 15_000);
    assert.equal(committed, 1, 'its offset is committed: it is not delivered again');
  } finally {
    await admin.disconnect();
  }
  await sleep(500);
  assert.equal(deadLetters.messages.length, 1, 'the dead-letter topic holds the one record, no second copy');
  assert.equal(outcomes.length, 1);
});
