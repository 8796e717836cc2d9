/**
 * Look, then decide (real PostgreSQL): no control-store transaction is open while a handler looks or
 * waits; only `ctx.decide` opens one, with the inbox claim and the outbox. A decision the handler did not
 * wait for still counts, a second one is a bug the delivery reports, and a delivery seen before is
 * replayed without running the handler.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEvent } from '@upshift/events';
import type { AnyUpshiftEvent } from '@upshift/events';
import pg from 'pg';
import { defineFunction } from '../src/host/function.ts';
import type { FunctionModule } from '../src/host/function.ts';
import { MemoryTransport } from '../src/transport/memory.ts';
import { freshDatabase, functionEnv, stackEnv } from './support/stack.ts';

const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let fn: FunctionModule;
let observer: pg.Client;
/** Handler runs per run id: a replayed delivery must not add one. */
const runs = new Map<string, number>();
/** Resolves while the handler of `look-*` runs is waiting, before it decides. */
let waiting: (() => void) | undefined;

before(async () => {
  db = await freshDatabase(env);
  fn = defineFunction({
    name: 'migrate-shard',
    async handle(ctx, event) {
      if (event.type !== 'dev.upshift.migration.expand.requested.v1') return;
      const { runId, migrations } = event.data;
      runs.set(runId, (runs.get(runId) ?? 0) + 1);
      await ctx.store.query('SELECT 1'); // a look through the pool
      if (runId.startsWith('look-')) {
        await new Promise<void>((resolve) => {
          waiting = resolve;
        });
      }
      const decide = ctx.decide(async (d) => void d.emit('migration.expand.done', { runId, migrations: [...migrations] }));
      if (runId.startsWith('unawaited-')) return;
      await decide;
      if (runId.startsWith('twice-')) await ctx.decide(async () => undefined);
    },
  });
  await fn.init({ env: functionEnv(env, db.url, 'mem.', { RELAY_POLL_MS: '100' }), publisher: new MemoryTransport() });
  observer = new pg.Client({ connectionString: db.url });
  await observer.connect();
});

after(async () => {
  await observer?.end();
  await fn?.shutdown();
  await db?.drop();
});

function request(runId: string): AnyUpshiftEvent {
  return createEvent('migration.expand.requested', { runId, migrations: ['a@1'] }, { producer: 'cli' }) as AnyUpshiftEvent;
}

/** Connections of the function in a transaction open for 200 ms or more (the relay's own are a few ms). */
async function openTransactions(): Promise<number> {
  const { rows } = await observer.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'upshift-migrate-shard'
        AND now() - xact_start >= interval '200 milliseconds'`);
  return rows[0]?.n ?? -1;
}

test('while a handler waits, no control-store transaction is open; its decision commits with the inbox and outbox', { timeout: 20_000 }, async () => {
  const handling = fn.handle({}, request('look-a'));
  for (let i = 0; i < 200 && !waiting; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(waiting, 'the handler is waiting');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await openTransactions(), 0, 'nothing is held open while the handler waits');
  waiting();
  const result = await handling;
  assert.equal(result.statusCode, 200);
  assert.equal((result.body['outputs'] as string[]).length, 1, 'the decision emitted its event');
  const { rows } = await observer.query<{ n: number }>(`SELECT count(*)::int AS n FROM upshift.inbox WHERE type LIKE '%expand.requested%'`);
  assert.equal(rows[0]?.n, 1, 'the inbox claim committed with it');
});

test('a decision the handler did not wait for still counts', { timeout: 20_000 }, async () => {
  const result = await fn.handle({}, request('unawaited-b'));
  assert.equal(result.statusCode, 200);
  assert.equal(result.body['outcome'], 'handled');
  assert.equal((result.body['outputs'] as string[]).length, 1, 'its event is the delivery\'s output');
});

test('deciding twice is a bug the delivery reports; the first decision stands and a retry replays it', { timeout: 20_000 }, async () => {
  const input = request('twice-c');
  const result = await fn.handle({}, input);
  assert.equal(result.statusCode, 500);
  assert.match(JSON.stringify(result.body), /decided twice/);
  const retried = await fn.handle({}, input);
  assert.equal(retried.body['outcome'], 'duplicate');
  assert.equal((retried.body['outputs'] as string[]).length, 1, 'the first decision\'s event');
});

test('a delivery seen before is replayed without running the handler', { timeout: 20_000 }, async () => {
  const input = request('again-d');
  const first = await fn.handle({}, input);
  const second = await fn.handle({}, input);
  assert.deepEqual([first.body['outcome'], second.body['outcome']], ['handled', 'duplicate']);
  assert.deepEqual(second.body['outputs'], first.body['outputs']);
  assert.equal(runs.get('again-d'), 1, 'the handler ran once');
});
