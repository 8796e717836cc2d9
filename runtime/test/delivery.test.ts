/**
 * Delivery outcomes through Kafka and the dispatcher: a handler failing with 503 twice is retried with
 * backoff and succeeds; a 400 goes to the dead-letter topic with the reason, without retries.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { runDev } from '@upshift/runtime/dev';
import type { DeliveryOutcome, DevRunner } from '@upshift/runtime/dev';
import { cliEvent, publishEvents } from './support/publish.ts';
import { collect, deadLetterTopic, eventually, freshDatabase, freshTopics, functionEnv, stackEnv } from './support/stack.ts';

const expanderModule = new URL('./functions/expander.ts', import.meta.url).pathname;
const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let topics: Awaited<ReturnType<typeof freshTopics>>;
let dev: DevRunner;
let client: pg.Client;
const outcomes: DeliveryOutcome[] = [];

before(async () => {
  db = await freshDatabase(env);
  topics = await freshTopics(env);
  dev = await runDev({
    env: functionEnv(env, db.url, topics.prefix),
    quiet: true,
    retry: { retries: 4, backoffDelayMs: 50 },
    onOutcome: (_target, outcome) => outcomes.push(outcome),
    functions: [{ name: 'migrate-shard', module: expanderModule, mode: 'inline' }],
  });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

after(async () => {
  await dev?.stop();
  await client?.end();
  await topics?.remove();
  await db?.drop();
});

async function attemptsOf(runId: string): Promise<number | undefined> {
  const { rows } = await client.query<{ n: number }>('SELECT n FROM test_attempts WHERE run_id = $1', [runId]);
  return rows[0]?.n;
}

test('a handler failing with 503 twice is retried by the dispatcher and succeeds', { timeout: 30_000 }, async () => {
  const event = cliEvent('migration.expand.requested', { runId: 'unavailable-twice', migrations: ['orders-currency@1'] });
  await publishEvents(env, topics.prefix, [event]);
  const effects = await eventually(async () => {
    const { rows } = await client.query<{ n: number }>(`SELECT n FROM test_effects WHERE run_id = 'unavailable-twice'`);
    return rows[0]?.n;
  });
  assert.equal(effects, 1);
  assert.equal(await attemptsOf('unavailable-twice'), 3);
  assert.ok(outcomes.some((outcome) => outcome.kind === 'delivered' && outcome.attempts === 3));
});

test('a handler answering 400 ends in the dead-letter topic with the reason and is not retried', { timeout: 30_000 }, async () => {
  const deadLetters = await collect(env, deadLetterTopic(topics.prefix));
  try {
    const event = cliEvent('migration.expand.requested', { runId: 'refuse-it', migrations: ['orders-currency@1'] });
    await publishEvents(env, topics.prefix, [event]);
    const [record] = await deadLetters.waitFor(1);
    assert.ok(record, 'dead-lettered');
    const header = (name: string): string => record.headers?.[name]?.toString() ?? '';
    assert.equal(header('ce_id'), event.id);
    assert.equal(header('ce_knativeerrorcode'), '400');
    assert.match(header('ce_knativeerrordata'), /not retriable: HTTP 400 .*simulated refusal/);
    assert.match(header('ce_knativeerrordest'), /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await attemptsOf('refuse-it'), 1, 'handler ran once: no retry');
    assert.equal(deadLetters.messages.length, 1);
  } finally {
    await deadLetters.stop();
  }
});
