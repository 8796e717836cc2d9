/**
 * Key-ordered delivery (the dev dispatcher's default) over real Kafka, with every record in one partition:
 * records of one key arrive one after another and in order while different keys overlap (a slow stand-in
 * function shows it), up to the function's concurrency; `order: 'partition'` delivers one at a time; a
 * stop with a record still failing leaves the partition's offset at that record, and a restart delivers it
 * and everything after it (none skipped); a 400 is still dead-lettered.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { encodeKafka } from '@upshift/events';
import type { AnyUpshiftEvent } from '@upshift/events';
import { Dispatcher } from '@upshift/runtime/dev';
import type { DeliveryOrder, DeliveryOutcome, RetryPolicy } from '@upshift/runtime/dev';
import { createLogger } from '../src/log.ts';
import { createKafka } from '../src/transport/kafka.ts';
import { cliEvent } from './support/publish.ts';
import { brokersOf, collect, deadLetterTopic, eventually, freshTopics, stackEnv } from './support/stack.ts';

const env = stackEnv();
const kafka = createKafka(brokersOf(env), 'upshift-key-order-test');
const topic = 'upshift.migrate-shard';
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request the stand-in got: which event, of which key, and when it was answered. */
interface Seen {
  readonly id: string;
  readonly key: string;
  readonly started: number;
  ended?: number;
}

/** A stand-in function: `answer(id)` decides each request's status (after any wait it likes). */
async function standIn(answer: (id: string) => Promise<number>) {
  const state = { seen: [] as Seen[], inFlight: 0, maxInFlight: 0 };
  const server = createServer((req, res) => {
    const seen: Seen = { id: String(req.headers['ce-id']), key: String(req.headers['ce-partitionkey']), started: performance.now() };
    state.seen.push(seen);
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    req.resume();
    req.on('end', () => {
      answer(seen.id).then((status) => {
        state.inFlight -= 1;
        seen.ended = performance.now();
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
      }, () => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, state };
}

/** Fresh catalogue topics for one test. */
async function topics(): Promise<string> {
  const fresh = await freshTopics(env);
  cleanups.push(() => fresh.remove());
  return fresh.prefix;
}

/** A started dispatcher of migrate-shard on `prefix`'s topics (the same group on every call), collecting outcomes. */
async function dispatcher(prefix: string, url: string, options: { concurrency: number; retry: Partial<RetryPolicy>; order?: DeliveryOrder }) {
  const outcomes: DeliveryOutcome[] = [];
  const running = new Dispatcher({
    kafka, log: createLogger('key-order-test', 'silent'), topicPrefix: prefix, retry: options.retry,
    targets: [{ functionName: 'migrate-shard', url, concurrency: options.concurrency }],
    onOutcome: (_target, outcome) => outcomes.push(outcome), ...(options.order ? { order: options.order } : {}),
  });
  await running.start();
  cleanups.push(() => running.stop());
  return { outcomes, stop: () => running.stop() };
}

/** `perKey` events for each of `keys` keys, interleaved (k0, k1, …, k0, k1, …): the order they are published in. */
function interleaved(tag: string, keys: number, perKey: number): AnyUpshiftEvent[] {
  return Array.from({ length: keys * perKey }, (_, i) =>
    cliEvent('migration.expand.requested', { runId: `${tag}-k${i % keys}`, migrations: ['orders-currency@1'] }));
}

/** Publishes `events` to partition 0 of the migrate-shard topic in one request (one batch for the consumer). */
async function publishToOnePartition(prefix: string, events: readonly AnyUpshiftEvent[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const messages = events.map((event) => {
      const record = encodeKafka(event);
      return { key: record.key, value: record.value, headers: { ...record.headers }, partition: 0 };
    });
    await producer.send({ topic: `${prefix}${topic}`, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** The committed offset of partition 0 (the next record a restart reads). */
async function committedOffset(prefix: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: `${prefix}upshift-dispatcher-migrate-shard`, topics: [`${prefix}${topic}`] });
    return Number(offsets?.partitions.find((p) => p.partition === 0)?.offset ?? -1);
  } finally {
    await admin.disconnect();
  }
}

/** The events of `key` in publish order, and the ids the stand-in saw of it in arrival order. */
function orderOf(events: readonly AnyUpshiftEvent[], seen: readonly Seen[], key: string) {
  return { published: events.filter((e) => e.subject === key).map((e) => e.id), arrived: seen.filter((s) => s.key === key).map((s) => s.id) };
}

test('one partition: records of a key arrive in order and one at a time, different keys overlap up to the concurrency', { timeout: 60_000 }, async () => {
  const fn = await standIn(async () => { await sleep(100); return 200; });
  const prefix = await topics();
  const { outcomes } = await dispatcher(prefix, fn.url, { concurrency: 3, retry: { retries: 0 } });
  const events = interleaved('ordered', 5, 4);
  await publishToOnePartition(prefix, events);
  await eventually(async () => (outcomes.length >= events.length ? true : undefined), 45_000);
  assert.deepEqual(outcomes.map((o) => o.kind), Array<string>(events.length).fill('delivered'));
  for (let k = 0; k < 5; k++) {
    const key = `ordered-k${k}`;
    const { published, arrived } = orderOf(events, fn.state.seen, key);
    assert.deepEqual(arrived, published, `${key}: delivered in publish order`);
    const ofKey = fn.state.seen.filter((s) => s.key === key);
    for (let i = 1; i < ofKey.length; i++) assert.ok(ofKey[i]!.started >= ofKey[i - 1]!.ended!, `${key}: the next starts after the previous was answered`);
  }
  assert.equal(fn.state.maxInFlight, 3, 'records of one partition overlap, up to the function\'s concurrency and never past it');
  await eventually(async () => ((await committedOffset(prefix)) === events.length ? true : undefined), 10_000);
});

test('order "partition" delivers a partition one record at a time', { timeout: 60_000 }, async () => {
  const fn = await standIn(async () => { await sleep(30); return 200; });
  const prefix = await topics();
  const { outcomes } = await dispatcher(prefix, fn.url, { concurrency: 3, retry: { retries: 0 }, order: 'partition' });
  const events = interleaved('partition', 4, 2);
  await publishToOnePartition(prefix, events);
  await eventually(async () => (outcomes.length >= events.length ? true : undefined), 45_000);
  assert.deepEqual(fn.state.seen.map((s) => s.id), events.map((e) => e.id), 'in offset order');
  assert.equal(fn.state.maxInFlight, 1);
});

test('a stop while a record keeps failing commits below it; a restart delivers it and its key\'s later records, none skipped', { timeout: 90_000 }, async () => {
  const events = interleaved('stopped', 4, 3); // k0 at offsets 0, 4, 8; k1 at 1, 5, 9; …
  const held = events[1]!; // k1's first record, offset 1
  let failHeld = true;
  const fn = await standIn(async (id) => {
    await sleep(20);
    return id === held.id && failHeld ? 503 : 200;
  });
  const prefix = await topics();
  const first = await dispatcher(prefix, fn.url, { concurrency: 4, retry: { retries: 1000, backoffDelayMs: 50, maxDelayMs: 50 } });
  await publishToOnePartition(prefix, events);
  const others = events.filter((e) => e.subject !== held.subject);
  await eventually(async () => (others.every((e) => fn.state.seen.some((s) => s.id === e.id)) ? true : undefined), 30_000);
  await eventually(async () => ((await committedOffset(prefix)) === 1 ? true : undefined), 10_000);
  await sleep(600); // more commits would have happened by now
  const k1 = orderOf(events, fn.state.seen, held.subject);
  assert.ok(k1.arrived.every((id) => id === held.id), 'k1\'s later records wait behind the failing one');
  assert.ok(k1.arrived.length > 1, 'the failing record is being retried');
  assert.equal(await committedOffset(prefix), 1, 'committed up to the failing record, not past it, though later records are done');
  await first.stop();
  assert.equal(await committedOffset(prefix), 1, 'a stop abandons it without committing');

  failHeld = false;
  const seenBefore = fn.state.seen.length;
  const second = await dispatcher(prefix, fn.url, { concurrency: 4, retry: { retries: 0 } });
  await eventually(async () => ((await committedOffset(prefix)) === events.length ? true : undefined), 30_000);
  const again = fn.state.seen.slice(seenBefore);
  assert.deepEqual(again.filter((s) => s.key === held.subject).map((s) => s.id), orderOf(events, [], held.subject).published, 'k1 in order after the restart');
  assert.ok(events.every((e) => fn.state.seen.some((s) => s.id === e.id && s.ended !== undefined)), 'every record was delivered at least once');
  assert.ok(second.outcomes.every((o) => o.kind === 'delivered'));
});

test('a 400 is dead-lettered while other keys go on; its key\'s next record follows it; the offset commits to the end', { timeout: 60_000 }, async () => {
  const events = interleaved('refused', 3, 2);
  const refused = events[0]!;
  const fn = await standIn(async (id) => {
    await sleep(50);
    return id === refused.id ? 400 : 200;
  });
  const prefix = await topics();
  const deadLetters = await collect(env, deadLetterTopic(prefix));
  cleanups.push(() => deadLetters.stop());
  const { outcomes } = await dispatcher(prefix, fn.url, { concurrency: 3, retry: { retries: 0 } });
  await publishToOnePartition(prefix, events);
  const [record] = await deadLetters.waitFor(1);
  assert.equal(record?.headers?.['ce_id']?.toString(), refused.id);
  assert.equal(record?.headers?.['ce_knativeerrorcode']?.toString(), '400');
  await eventually(async () => ((await committedOffset(prefix)) === events.length ? true : undefined), 15_000);
  assert.deepEqual(outcomes.map((o) => o.kind).sort(), ['dead-letter', 'delivered', 'delivered', 'delivered', 'delivered', 'delivered']);
  const k0 = fn.state.seen.filter((s) => s.key === refused.subject);
  assert.deepEqual(k0.map((s) => s.id), orderOf(events, [], refused.subject).published);
  assert.ok(k0[1]!.started >= k0[0]!.ended!, 'the key\'s next record waited for the refused one');
  assert.ok(fn.state.maxInFlight > 1, 'other keys were delivered meanwhile');
});
