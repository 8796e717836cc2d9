/**
 * Exactly-once effects over at-least-once delivery, on the real stack: the same event delivered three
 * times (through Kafka and the dispatcher, and concurrently over HTTP) has its effects once, and its
 * outputs reach a deduplicating consumer once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeHttp } from '@upshift/events';
import pg from 'pg';
import { runDev } from '@upshift/runtime/dev';
import type { DevRunner } from '@upshift/runtime/dev';
import { cliEvent, publishEvents } from './support/publish.ts';
import { collect, eventually, freshDatabase, freshTopics, functionEnv, stackEnv } from './support/stack.ts';

const expanderModule = new URL('./functions/expander.ts', import.meta.url).pathname;
const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let topics: Awaited<ReturnType<typeof freshTopics>>;
let dev: DevRunner;
let client: pg.Client;

before(async () => {
  db = await freshDatabase(env);
  topics = await freshTopics(env);
  const fnEnv = functionEnv(env, db.url, topics.prefix);
  dev = await runDev({ env: fnEnv, quiet: true, functions: [{ name: 'migrate-shard', module: expanderModule, mode: 'inline' }] });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

after(async () => {
  await dev?.stop();
  await client?.end();
  await topics?.remove();
  await db?.drop();
});

async function effectsOf(runId: string): Promise<number | undefined> {
  const { rows } = await client.query<{ n: number }>('SELECT n FROM test_effects WHERE run_id = $1', [runId]);
  return rows[0]?.n;
}

test('the same event delivered 3 times has its effects once and its outputs seen once', { timeout: 60_000 }, async () => {
  const event = cliEvent('migration.expand.requested', { runId: 'thrice', migrations: ['orders-currency@1'] });
  const outputs = await collect(env, `${topics.prefix}upshift.rollout`);
  try {
    await publishEvents(env, topics.prefix, [event, event, event]);
    const deliveries = await eventually(async () => {
      const { rows } = await client.query<{ deliveries: number }>('SELECT deliveries FROM upshift.inbox WHERE id = $1', [event.id]);
      return rows[0] && rows[0].deliveries >= 3 ? rows[0].deliveries : undefined;
    });
    assert.equal(deliveries, 3);
    assert.equal(await effectsOf('thrice'), 1);
    await outputs.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const seen = new Map(outputs.events().map((output) => [`${output.source} ${output.id}`, output]));
    assert.equal(seen.size, 1, 'one distinct output after dedupe on (source, id)');
    assert.equal([...seen.values()][0]?.type, 'dev.upshift.migration.expand.done.v1');
  } finally {
    await outputs.stop();
  }
});

test('three concurrent deliveries of one event run the handler once', { timeout: 30_000 }, async () => {
  const event = cliEvent('migration.expand.requested', { runId: 'concurrent', migrations: ['orders-currency@1'] });
  const http = encodeHttp(event);
  const url = dev.functions[0]!.url;
  const answers = await Promise.all([1, 2, 3].map(() => fetch(url, { method: 'POST', headers: http.headers, body: http.body })));
  const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as { outcome: string; outputs: string[] }[];
  assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200]);
  assert.deepEqual(bodies.map((body) => body.outcome).sort(), ['duplicate', 'duplicate', 'handled']);
  assert.equal(new Set(bodies.map((body) => body.outputs.join())).size, 1, 'duplicates report the first outputs');
  assert.equal(await effectsOf('concurrent'), 1);
});

test('with the duplication switch every event is delivered twice and handled once', { timeout: 60_000 }, async () => {
  const twiceTopics = await freshTopics(env);
  const deliveries: string[] = [];
  const twice = await runDev({
    env: functionEnv(env, db.url, twiceTopics.prefix), quiet: true, duplicate: true,
    onOutcome: (_target, outcome) => deliveries.push(outcome.kind),
    functions: [{ name: 'migrate-shard', module: expanderModule, mode: 'inline' }],
  });
  try {
    const event = cliEvent('migration.expand.requested', { runId: 'doubled', migrations: ['orders-currency@1'] });
    await publishEvents(env, twiceTopics.prefix, [event]);
    await eventually(async () => (deliveries.length >= 2 ? true : undefined));
    assert.deepEqual(deliveries, ['delivered', 'delivered']);
    assert.equal(await effectsOf('doubled'), 1);
  } finally {
    await twice.stop();
    await twiceTopics.remove();
  }
});
