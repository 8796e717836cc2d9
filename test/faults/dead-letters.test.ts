/**
 * No event of a run dies silently (real stack, `upshift dev`): a record on the dead-letter topic, as the
 * dispatcher or a KafkaSource writes it (the original event plus Knative's `knativeerror*` attributes),
 * reaches verify. A transient one is redriven and the run goes on to complete; a refused one ends the
 * run with its policy and a reason naming the event, instead of leaving it waiting for ever.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEAD_LETTER_TOPIC, encodeKafka, isEventOf, type AnyUpshiftEvent } from '@upshift/events';
import { createKafka, viewSteps } from '@upshift/runtime';
import pg from 'pg';
import { startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { collect, eventually } from '../../runtime/test/support/stack.ts';
import { upshift } from '../../cli/test/support/run.ts';
import { requestOrdersRun, runEnds, seedCountedOrders } from './shard-run.ts';

let t: ShardTest;

before(async () => {
  t = await startShardTest({ functions: ['plan', 'rollout', 'migrate-shard', 'verify'] });
});

after(async () => {
  await t?.stop();
});

/** Writes `event` to the dead-letter topic the way the dispatcher dead-letters it. */
async function deadLetter(event: AnyUpshiftEvent, status: number, reason: string): Promise<void> {
  const producer = createKafka(t.harness.env['KAFKA_BROKERS']?.split(',') ?? [], 'dead-letter-test').producer();
  await producer.connect();
  try {
    const record = encodeKafka(event);
    const headers = { ...record.headers, ce_knativeerrordest: 'http://127.0.0.1/upshift-migrate-shard', ce_knativeerrorcode: String(status), ce_knativeerrordata: reason };
    await producer.send({ topic: `${t.harness.prefix}${DEAD_LETTER_TOPIC}`, messages: [{ key: record.key, value: record.value, headers }] });
  } finally {
    await producer.disconnect();
  }
}

async function deadLetterSteps(runId: string) {
  const client = new pg.Client({ connectionString: t.harness.databaseUrl });
  await client.connect();
  try {
    return await viewSteps(client, runId, 'dead-letter');
  } finally {
    await client.end();
  }
}

test('a shard request dead-lettered with 503 is redriven: the run completes, the dead letter is on record', { timeout: 120_000 }, async () => {
  await seedCountedOrders(t.shop, 800, 1);
  const work = await collect(t.harness.env, `${t.harness.prefix}upshift.migrate-shard`);
  const run = await requestOrdersRun(t, 2, 50);
  try {
    const request = await eventually(async () => work.events().find((e) => isEventOf(e, 'shard.requested') && e.data.runId === run.runId));
    const started = Date.now();
    await deadLetter(request, 503, 'upstream connect error');
    const end = await t.harness.waitFor(run.runId, [...runEnds], 100_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    const [step] = await eventually(async () => {
      const steps = await deadLetterSteps(run.runId);
      return steps.length > 0 ? steps : undefined;
    });
    console.log(`dead letter (503) of ${request.id}: redriven, run ${end.type} ${Date.now() - started} ms after it`);
    assert.deepEqual([step?.key, step?.attempt], [request.id, 1], 'redriven once');
  } finally {
    await work.stop();
    await run.remove();
  }
});

test('a shard request dead-lettered as refused (400) ends the run: rolled back, the reason names the event', { timeout: 120_000 }, async () => {
  // Slow rows (2 × 800 at 10 ms each): the run is still migrating when verify gets the dead letter.
  await seedCountedOrders(t.shop, 1600, 10);
  const work = await collect(t.harness.env, `${t.harness.prefix}upshift.migrate-shard`);
  const run = await requestOrdersRun(t, 2, 20);
  try {
    const request = await eventually(async () => work.events().find((e) => isEventOf(e, 'shard.requested') && e.data.runId === run.runId));
    const started = Date.now();
    await deadLetter(request, 400, 'not retriable: HTTP 400');
    const end = await t.harness.waitFor(run.runId, [...runEnds], 100_000);
    console.log(`dead letter (400) of ${request.id}: run ${end.type} ${Date.now() - started} ms after it`);
    assert.ok(isEventOf(end, 'upgrade.rolled-back'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.match(end.data.reason, new RegExp(`shard.requested.v1 ${request.id} to .* was dead-lettered: refused, HTTP 400: not retriable: HTTP 400`));
    assert.equal(end.data.stage, 'migrate');
    const status = await upshift(['status', run.runId], { ...process.env, DATABASE_URL: t.harness.databaseUrl, NO_COLOR: '1' });
    assert.equal(status.code, 0, status.stderr);
    const section = status.stdout.slice(status.stdout.indexOf('\ndead letters\n'));
    assert.match(section, new RegExp(`${request.id}\\s+shard\\.requested\\s+400\\s+failed the run\\s+not retriable: HTTP 400`), `upshift status shows the dead letter:\n${status.stdout}`);
  } finally {
    await work.stop();
    await run.remove();
  }
});
