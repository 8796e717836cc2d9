/**
 * The exactly-once transaction in few round trips (real PostgreSQL): the outputs' statement travels with
 * the COMMIT, a handler that decides nothing claims the inbox in one autocommitted statement, the relay
 * claims with BEGIN and marks sent with COMMIT. None of it weakens the one transaction: a failure in the
 * decision or in the statement sent with the COMMIT leaves neither inbox claim nor outbox rows, a
 * redelivery replays the first outputs, and values needing escapes reach the outbox and Kafka unchanged.
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
const transport = new MemoryTransport();
/** Handler runs per run id. */
const runs = new Map<string, number>();
/** Free text the handler of a run puts in a `rollback.requested` it emits besides (escaping tests). */
const reasons = new Map<string, string>();
/** SQL texts sent by pg clients of this process while `counting` is set (the relay's own left out). */
let counted: string[] | undefined;
/** Clients inside a relay claim's transaction (between its claim and its COMMIT). */
const relayClaiming = new WeakSet<pg.Client>();

before(async () => {
  db = await freshDatabase(env);
  // Counting is set up before the function starts, so the relay's start-up claim is seen as the relay's.
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
    const config = args[0];
    const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text ?? '';
    // The relay's own transactions are left out: its claim (`sent_at IS NULL`), its mark (`SET sent_at`),
    // and the lone COMMIT that ends an empty claim (its start-up poll can land while a test counts).
    if (/sent_at IS NULL/.test(text)) relayClaiming.add(this);
    else if (/SET sent_at/.test(text)) relayClaiming.delete(this);
    const endsRelayClaim = /^(COMMIT|ROLLBACK)$/.test(text.trim()) && relayClaiming.delete(this);
    if (counted && this !== observer && !endsRelayClaim && !/sent_at IS NULL|SET sent_at|LISTEN/.test(text)) counted.push(text);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  fn = defineFunction({
    name: 'migrate-shard',
    async handle(ctx, event) {
      if (event.type !== 'dev.upshift.migration.expand.requested.v1') return;
      const { runId, migrations } = event.data;
      const run = (runs.get(runId) ?? 0) + 1;
      runs.set(runId, run);
      if (runId.startsWith('nothing-')) return;
      const reason = reasons.get(runId);
      await ctx.decide(async (d) => {
        d.emit('migration.expand.done', { runId, migrations: [...migrations] });
        if (reason !== undefined) d.emit('rollback.requested', { runId, stage: 'rollback', reason });
        if (runId.startsWith('large-')) for (let i = 0; i < 12; i += 1) d.emit('rollback.requested', { runId, stage: 'rollback', reason: `${i} ${'x'.repeat(1900)}` }, { key: `r${i}` });
        if (runId.startsWith('throws-') && run === 1) throw new Error('the decision fails after emitting');
      });
    },
  });
  await fn.init({ env: functionEnv(env, db.url, 'mem.', { RELAY_POLL_MS: '60000' }), publisher: transport });
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

async function rowsOf(event: AnyUpshiftEvent): Promise<{ inbox: number; outputs: string[]; outbox: number }> {
  const inbox = await observer.query<{ outputs: string[] }>('SELECT outputs FROM upshift.inbox WHERE source = $1 AND id = $2', [event.source, event.id]);
  const outbox = await observer.query<{ n: number }>(`SELECT count(*)::int AS n FROM upshift.outbox WHERE event->'data'->>'runId' = $1`, [(event.data as { runId: string }).runId]);
  return { inbox: inbox.rowCount ?? 0, outputs: inbox.rows[0]?.outputs ?? [], outbox: outbox.rows[0]?.n ?? -1 };
}

/** Handles `event`, returning its result and the SQL statements it sent (one each round trip). */
async function handleCounting(event: AnyUpshiftEvent): Promise<{ result: Awaited<ReturnType<FunctionModule['handle']>>; statements: string[] }> {
  counted = [];
  try {
    const result = await fn.handle({}, event);
    return { result, statements: counted };
  } finally {
    counted = undefined;
  }
}

test('a decision costs its round trips: look, claim with BEGIN, the pause check of a forward event, outputs with COMMIT', async () => {
  const event = request('count-a');
  const { result, statements } = await handleCounting(event);
  assert.equal(result.statusCode, 200);
  assert.equal(statements.length, 4, statements.join('\n---\n'));
  assert.match(statements[0]!, /^SELECT 1 FROM upshift.inbox/);
  assert.match(statements[1]!, /^BEGIN; INSERT INTO upshift.inbox/);
  assert.match(statements[2]!, /FROM upshift.run_controls/, 'migration.expand.done waits while its run is paused');
  assert.match(statements[3]!, /INSERT INTO upshift.outbox[\s\S]*; COMMIT$/);
  assert.deepEqual(await rowsOf(event), { inbox: 1, outputs: result.body['outputs'], outbox: 1 });
});

test('a handler that decides nothing claims the inbox in one statement, and its redelivery is a duplicate', async () => {
  const event = request('nothing-a');
  const first = await handleCounting(event);
  assert.equal(first.result.body['outcome'], 'handled');
  assert.equal(first.statements.length, 2, first.statements.join('\n---\n'));
  assert.doesNotMatch(first.statements.join('\n'), /BEGIN|COMMIT/);
  assert.deepEqual(await rowsOf(event), { inbox: 1, outputs: [], outbox: 0 });
  const again = await fn.handle({}, event);
  assert.equal(again.body['outcome'], 'duplicate');
  assert.equal(runs.get('nothing-a'), 1, 'the handler did not run again');
});

test('a decision that throws after emitting leaves neither inbox claim nor outbox rows; the retry commits once', async () => {
  const event = request('throws-a');
  const failed = await fn.handle({}, event);
  assert.ok(failed.statusCode >= 500, `status ${failed.statusCode}`);
  assert.deepEqual(await rowsOf(event), { inbox: 0, outputs: [], outbox: 0 });
  const retried = await fn.handle({}, event);
  assert.equal(retried.statusCode, 200);
  assert.equal(retried.body['outcome'], 'handled');
  assert.deepEqual(await rowsOf(event), { inbox: 1, outputs: retried.body['outputs'], outbox: 1 });
});

test('a statement sent with the COMMIT that fails rolls the whole transaction back', async () => {
  // PostgreSQL's jsonb refuses \u0000: the outbox insert, sent with the COMMIT, fails after the claim succeeded.
  reasons.set('nul-a', 'a \u0000 in the text');
  const event = request('nul-a');
  const failed = await fn.handle({}, event);
  assert.ok(failed.statusCode >= 500, `status ${failed.statusCode}: ${JSON.stringify(failed.body)}`);
  assert.deepEqual(await rowsOf(event), { inbox: 0, outputs: [], outbox: 0 });
  const { rows } = await observer.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction (aborted)'`);
  assert.equal(rows[0]?.n, 0, 'no connection is left in an aborted transaction');
});

test('a redelivery replays the same outputs without running the handler', async () => {
  const event = request('replay-a');
  const first = await fn.handle({}, event);
  const again = await fn.handle({}, event);
  assert.equal(again.body['outcome'], 'duplicate');
  assert.deepEqual(again.body['outputs'], first.body['outputs']);
  assert.equal(runs.get('replay-a'), 1);
  assert.deepEqual(await rowsOf(event), { inbox: 1, outputs: first.body['outputs'], outbox: 1 });
});

test("values needing escapes (quotes, backslashes, E'' look-alikes, non-ASCII) reach the outbox and Kafka unchanged", { timeout: 20_000 }, async () => {
  const reason = `o'brien \\ back\\slash E'\\x27'); DROP TABLE upshift.inbox; -- ünïcødé ✓ $1 $$ ::jsonb "quoted" \n new line`;
  reasons.set('escape-a', reason);
  const result = await fn.handle({}, request('escape-a'));
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  const outputs = result.body['outputs'] as string[];
  assert.equal(outputs.length, 2);
  const stored = await observer.query<{ event: { data: { reason?: string } } }>(`SELECT event FROM upshift.outbox WHERE id = ANY($1::text[]) AND type LIKE '%rollback%'`, [outputs]);
  assert.equal(stored.rows[0]?.event.data.reason, reason);
  const deadline = Date.now() + 10_000;
  let published: AnyUpshiftEvent | undefined;
  while (!published && Date.now() < deadline) {
    published = transport.published.find((message) => outputs.includes(message.event.id) && message.event.type.includes('rollback'))?.event;
    if (!published) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal((published?.data as { reason?: string } | undefined)?.reason, reason);
  const sent = async (): Promise<number> => (await observer.query<{ n: number }>(
    'SELECT count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS n FROM upshift.outbox WHERE id = ANY($1::text[])', [outputs])).rows[0]?.n ?? -1;
  while ((await sent()) < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await sent(), 2, 'the relay marked both sent with its COMMIT');
});

test('outputs too large to escape inline are stored as parameters before the COMMIT, in the same transaction', async () => {
  const event = request('large-a');
  const { result, statements } = await handleCounting(event);
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  assert.equal(statements.length, 5, statements.join('\n---\n'));
  assert.match(statements[3]!, /INSERT INTO upshift.outbox[\s\S]*\$1::text\[\]/);
  assert.equal(statements[4], 'COMMIT');
  assert.deepEqual(await rowsOf(event), { inbox: 1, outputs: result.body['outputs'], outbox: 13 });
  const again = await fn.handle({}, event);
  assert.deepEqual(again.body['outputs'], result.body['outputs'], 'a redelivery replays all 13');
});
