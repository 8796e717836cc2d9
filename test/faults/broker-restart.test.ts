/**
 * Kafka stopped and started mid-run: a whole run (plan → rollout → migrate-shard → verify, each function
 * a child process under `upshift dev`) against a private, short-lived broker of this test (the stack's
 * broker is shared by the suites running beside this one and is never touched). While the shards work,
 * the broker is stopped twice, each time kept down for a few seconds and started again on the same
 * ports and data dir: first with SIGTERM (a controlled shutdown, as a rolling restart does), then, once
 * the run has moved on again, with SIGKILL (a crash: no controlled shutdown, log recovery on start).
 * A shard hands over to a continuation event every second, so work really waits on the broker.
 * Meanwhile the relays keep their outbox rows (a publish the broker did not acknowledge marks nothing
 * sent) and the dispatcher's consumers fail their fetches and commits; once the broker is back the
 * relays publish what piled up and the consumers rejoin their groups (or are replaced when kafkajs gives
 * up on them) and go on from their committed offsets. The run completes with the data an undisturbed
 * run leaves, every row changed once, no dead letter, and no event lost: every event a function put in
 * its outbox was sent, and handled by the function it is for.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { DEAD_LETTER_TOPIC, LIFECYCLE_TOPIC, entryFor, isEventOf, workTopics, type AnyUpshiftEvent } from '@upshift/events';
import { Dispatcher } from '@upshift/runtime/dev';
import { expectedOrdersChecksum, migratedOrdersChecksum, startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { createLogger } from '../../runtime/src/log.ts';
import { createKafka } from '../../runtime/src/transport/kafka.ts';
import { cliEvent, publishEvents } from '../../runtime/test/support/publish.ts';
import { collect, freshTopics, type Collector } from '../../runtime/test/support/stack.ts';
import { startPrivateKafka, type PrivateKafka } from '../../stack/src/kafka-instance.ts';
import { deliveryTally, migrationsOf, requestOrdersRun, runEnds, seedCountedOrders, touches, until } from './shard-run.ts';

const shards = 4;
const rows = 4000;
const msPerRow = 3;
const downForMs = 5000;
const { tally, onOutcome } = deliveryTally();
const brokerDir = mkdtempSync(join(tmpdir(), 'upshift-kafka-restart-'));
let broker: PrivateKafka | undefined;
let t: ShardTest | undefined;

before(async () => {
  broker = await startPrivateKafka({ dir: brokerDir });
  t = await startShardTest({
    functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process', kafkaBrokers: broker.brokers, dev: { onOutcome },
    extraEnv: { UPSHIFT_SHARD_BUDGET_MS: '1000' },
  });
});

after(async () => {
  await broker?.start().catch(() => undefined); // clean-up deletes the topics: the broker must be up
  await t?.stop();
  await broker?.stop();
  rmSync(brokerDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rows migrated so far in the shop database. */
async function migratedRows(shard: ShardTest): Promise<number> {
  const { rows: [row] } = await shard.shop.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE schema_version = 2');
  return row?.n ?? 0;
}

async function runStatus(shard: ShardTest, runId: string): Promise<string> {
  const { rows: [row] } = await shard.control.query<{ status: string }>('SELECT status FROM upshift.runs WHERE id = $1', [runId]);
  return row?.status ?? 'missing';
}

/** One outage: stops the broker with `signal` once `migrated` rows are reached, keeps it down, starts it again. */
async function outage(shard: ShardTest, kafka: PrivateKafka, runId: string, signal: NodeJS.Signals, atRows: number) {
  const atFault = await until(async () => {
    const migrated = await migratedRows(shard);
    return migrated >= atRows ? migrated : undefined;
  }, 60_000, `fewer than ${atRows} rows migrated`);
  const fault = Date.now();
  await kafka.stop(signal);
  const stopped = Date.now();
  await sleep(downForMs);
  const beforeStart = await migratedRows(shard);
  await kafka.start();
  const back = Date.now();
  const status = await runStatus(shard, runId);
  const report = `${signal}: broker stopped at ${atFault}/${rows} rows (exit took ${stopped - fault} ms), down ${back - stopped} ms `
    + `(${beforeStart} rows when it was started again), run ${status} when it was back`;
  return { fault, back, atFault, status, report };
}

/**
 * Events a function put in its outbox for another function that are not in that function's inbox, and
 * outbox rows never marked sent. The control store is this test's own, so every row is the run's.
 */
async function lostEvents(shard: ShardTest): Promise<{ unsent: string[]; unhandled: string[] }> {
  const consumers = workTopics.map((topic) => [`${shard.harness.prefix}${topic}`, topic.slice('upshift.'.length)] as const);
  const { rows: unsent } = await shard.control.query<{ type: string; id: string }>('SELECT type, id FROM upshift.outbox WHERE sent_at IS NULL ORDER BY seq');
  const { rows: unhandled } = await shard.control.query<{ type: string; id: string; consumer: string }>(
    `SELECT o.type, o.id, c.consumer FROM upshift.outbox o JOIN unnest($1::text[], $2::text[]) AS c(topic, consumer) ON c.topic = o.topic
      WHERE NOT EXISTS (SELECT 1 FROM upshift.inbox i WHERE i.consumer = c.consumer AND i.source = o.source AND i.id = o.id) ORDER BY o.seq`,
    [consumers.map(([topic]) => topic), consumers.map(([, consumer]) => consumer)]);
  return { unsent: unsent.map((r) => `${r.type} ${r.id}`), unhandled: unhandled.map((r) => `${r.type} ${r.id} → ${r.consumer}`) };
}

/** Shards whose shard.completed verify handled (in its inbox), by the shard id the event names. */
async function shardsCompletedAtVerify(shard: ShardTest, runId: string): Promise<number> {
  const { rows: [row] } = await shard.control.query<{ n: number }>(
    `SELECT count(DISTINCT o.event->'data'->>'shardId')::int AS n FROM upshift.inbox i JOIN upshift.outbox o ON o.source = i.source AND o.id = i.id
      WHERE i.consumer = 'verify' AND i.type = $2 AND o.event->'data'->>'runId' = $1`, [runId, entryFor('shard.completed').type]);
  return row?.n ?? 0;
}

function isRunEnd(event: AnyUpshiftEvent, runId: string): boolean {
  return (event.data as { runId?: string }).runId === runId && runEnds.some((name) => event.type === entryFor(name).type);
}

test('Kafka stopped (SIGTERM, then SIGKILL) and started mid-run: the run completes, every row changed once, no event lost', { timeout: 120_000 }, async () => {
  assert.ok(t && broker);
  const shard = t;
  await seedCountedOrders(shard.shop, rows, msPerRow);
  const expected = await expectedOrdersChecksum(shard.shop);
  // The harness's own collectors are not part of the product and are not needed here: this test reads
  // the topics with collectors started once the broker is back. Stopped now, they cannot be caught in
  // a kafkajs restart by the outages.
  await Promise.all([shard.verify.stop(), shard.work.stop(), shard.harness.lifecycle.stop()]);
  const run = await requestOrdersRun(shard, shards, 50);
  const collectors: Collector[] = [];
  try {
    const first = await outage(shard, broker, run.runId, 'SIGTERM', 300);
    console.log(first.report);
    assert.equal(first.status, 'running', 'the run was still going when the broker came back');
    // The run moves on by itself after the first outage before the broker crashes.
    const second = await outage(shard, broker, run.runId, 'SIGKILL', (await migratedRows(shard)) + 300);
    console.log(second.report);
    assert.equal(second.status, 'running', 'the run was still going when the broker came back the second time');
    assert.ok(second.atFault < rows, 'the broker crashed while shards were working');

    // Collectors started now read the topics from the beginning: what the broker kept through both restarts.
    const lifecycle = await collect(shard.harness.env, `${shard.harness.prefix}${LIFECYCLE_TOPIC}`);
    const deadLetters = await collect(shard.harness.env, `${shard.harness.prefix}${DEAD_LETTER_TOPIC}`);
    collectors.push(lifecycle, deadLetters);
    const end = await until(async () => lifecycle.events().find((e) => isRunEnd(e, run.runId)), 80_000, 'the run did not end');
    const ended = Date.now();
    console.log(`${end.type} ${ended - first.fault} ms after the first fault, ${ended - second.fault} ms after the second, ${ended - second.back} ms after the broker was back`);

    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    const [[ref, shardCount, counted] = ['', 0, 0]] = migrationsOf(end);
    assert.deepEqual([ref, shardCount, counted], ['orders-currency@1', shards, rows]);
    assert.equal(await migratedOrdersChecksum(shard.shop), expected, 'the same data as an undisturbed run');
    assert.deepEqual(await touches(shard.shop), { max: 1, once: rows }, 'every row changed exactly once');
    assert.deepEqual(tally.deadLetters, [], 'no delivery was dead-lettered');
    assert.equal(deadLetters.messages.length, 0, 'the dead-letter topic is empty');
    // The relay marks a row sent only after the broker acknowledged it; upgrade.completed may be read just before.
    const lost = await until(async () => {
      const found = await lostEvents(shard);
      return found.unsent.length === 0 && found.unhandled.length === 0 ? found : undefined;
    }, 10_000, 'events lost').catch(async (err: unknown) => assert.fail(`${String(err)}: ${JSON.stringify(await lostEvents(shard))}`));
    assert.deepEqual(lost, { unsent: [], unhandled: [] }, 'every outbox event was sent and handled');
    assert.equal(await shardsCompletedAtVerify(shard, run.runId), shards, 'every shard.completed reached verify');
  } finally {
    await Promise.allSettled(collectors.map((c) => c.stop()));
    await run.remove();
  }
});

/**
 * The dispatcher's consumer crashing with an error kafkajs does not restart on (a non-retriable cause,
 * as the group errors after a broker outage are; here thrown once by the outcome hook) is replaced:
 * the record in flight is delivered again and every later record is still delivered.
 */
test('a dispatcher consumer kafkajs gives up on is replaced: every record is still delivered', { timeout: 60_000 }, async () => {
  assert.ok(broker);
  const env = { KAFKA_BROKERS: broker.brokers };
  const received: string[] = [];
  const server = createServer((req, res) => {
    received.push(String(req.headers['ce-id']));
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const topics = await freshTopics(env);
  const logLines: string[] = [];
  const log = createLogger('dispatcher-test', 'info', new Writable({ write(chunk: Buffer, _encoding, done) { logLines.push(chunk.toString()); done(); } }));
  let crashes = 0;
  const dispatcher = new Dispatcher({
    kafka: createKafka([broker.brokers], 'upshift-replace-test'), log, topicPrefix: topics.prefix,
    targets: [{ functionName: 'migrate-shard', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }],
    onOutcome: () => {
      if (crashes++ === 0) throw Object.assign(new Error('injected: not retriable'), { retriable: false });
    },
  });
  try {
    await dispatcher.start();
    const events = Array.from({ length: 5 }, (_, i) => cliEvent('migration.expand.requested', { runId: `replace-${i}`, migrations: ['orders-currency@1'] }));
    await publishEvents(env, topics.prefix, events.slice(0, 1));
    await until(async () => (logLines.some((line) => line.includes('consumer replaced')) ? true : undefined), 30_000, 'the consumer was not replaced');
    await publishEvents(env, topics.prefix, events.slice(1));
    await until(async () => (events.every((e) => received.includes(e.id)) ? true : undefined), 30_000, `not every record was delivered (got ${received.join(', ')})`);
    assert.ok(logLines.some((line) => line.includes('kafkajs gave up on it')), 'kafkajs did not restart the consumer itself');
    assert.ok(received.filter((id) => id === events[0]?.id).length >= 2, 'the record in flight at the crash was delivered again');
  } finally {
    await dispatcher.stop();
    await topics.remove();
    await new Promise((resolve) => server.close(resolve));
  }
});
