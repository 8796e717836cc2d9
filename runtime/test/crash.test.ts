/**
 * A crash after commit and before publish loses nothing: the function process exits right after its
 * handling transaction commits (UPSHIFT_CRASH_POINT); after a restart its relay publishes the stored
 * outputs, and a redelivery of the input replays them instead of running the handler again.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { encodeHttp } from '@upshift/events';
import pg from 'pg';
import { startFunction } from '../src/dev/functions.ts';
import type { StartedFunction } from '../src/dev/functions.ts';
import { cliEvent } from './support/publish.ts';
import { collect, eventually, freshDatabase, freshTopics, functionEnv, stackEnv } from './support/stack.ts';

const expanderModule = new URL('./functions/expander.ts', import.meta.url).pathname;
const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let topics: Awaited<ReturnType<typeof freshTopics>>;
let client: pg.Client;
const started: StartedFunction[] = [];

before(async () => {
  db = await freshDatabase(env);
  topics = await freshTopics(env);
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

after(async () => {
  await Promise.allSettled(started.map((fn) => fn.stop()));
  await client?.end();
  await topics?.remove();
  await db?.drop();
});

test('a crash between commit and publish: the restarted relay publishes the outputs', { timeout: 90_000 }, async () => {
  const outputs = await collect(env, `${topics.prefix}upshift.rollout`);
  try {
    const event = cliEvent('migration.expand.requested', { runId: 'crash-once', migrations: ['orders-currency@1'] });
    const http = encodeHttp(event);
    const crashing = await startFunction(
      { name: 'migrate-shard', module: expanderModule, env: { UPSHIFT_CRASH_POINT: 'after-commit-before-publish' } },
      functionEnv(env, db.url, topics.prefix), true,
    );
    started.push(crashing);
    const exited = once(crashing.child!, 'exit');
    await assert.rejects(fetch(crashing.url, { method: 'POST', headers: http.headers, body: http.body }), 'connection dropped by the crash');
    const [code] = await exited;
    assert.equal(code, 86);

    const pending = await client.query<{ sent: boolean }>(`SELECT sent_at IS NOT NULL AS sent FROM upshift.outbox`);
    assert.deepEqual(pending.rows, [{ sent: false }], 'committed output waits in the outbox');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(outputs.messages.length, 0, 'nothing published before the restart');

    const restarted = await startFunction({ name: 'migrate-shard', module: expanderModule }, functionEnv(env, db.url, topics.prefix), true);
    started.push(restarted);
    await outputs.waitFor(1);
    assert.equal(outputs.events()[0]?.type, 'dev.upshift.migration.expand.done.v1');

    // The consumer may see the event before the relay marks it sent: redeliver only once it is marked.
    await eventually(async () => ((await client.query<{ sent: boolean }>(`SELECT sent_at IS NOT NULL AS sent FROM upshift.outbox`)).rows[0]?.sent ? true : undefined));
    const again = await fetch(restarted.url, { method: 'POST', headers: http.headers, body: http.body });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { outcome: string }).outcome, 'duplicate');
    const effects = await client.query<{ n: number }>(`SELECT n FROM test_effects WHERE run_id = 'crash-once'`);
    assert.equal(effects.rows[0]?.n, 1, 'the handler ran once');
    await outputs.waitFor(2);
    assert.equal(new Set(outputs.events().map((output) => output.id)).size, 1, 'the replay republished the same event');
    // The relay marks rows sent after the broker acked, so the consumer may see the event first.
    const sent = await eventually(async () => {
      const { rows } = await client.query<{ sent: boolean; count: number }>(`SELECT sent_at IS NOT NULL AS sent, publish_count AS count FROM upshift.outbox`);
      return rows[0]?.sent ? rows : undefined;
    });
    assert.deepEqual(sent, [{ sent: true, count: 2 }]);
  } finally {
    await outputs.stop();
  }
});

test('upshift dev restarts a function process that was killed, on the same port', { timeout: 60_000 }, async () => {
  const fn = await startFunction({ name: 'migrate-shard', module: expanderModule, restart: true }, functionEnv(env, db.url, topics.prefix), true);
  started.push(fn);
  const first = fn.child!;
  first.kill('SIGKILL');
  await once(first, 'exit');
  const deadline = Date.now() + 45_000;
  while (fn.child === first || !(await fetch(`${fn.url}health/readiness`).then((r) => r.ok, () => false))) {
    assert.ok(Date.now() < deadline, 'restarted in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const http = encodeHttp(cliEvent('migration.expand.requested', { runId: 'after-restart', migrations: ['orders-currency@1'] }));
  const answer = await fetch(fn.url, { method: 'POST', headers: http.headers, body: http.body });
  assert.equal(answer.status, 200);
});
