/**
 * The store throttle through migrate-shard's handler: a `shard.requested` whose table is blocked by
 * another session's lock (an application write waits behind it) holds without running a batch, says so
 * in its step (`throttle`) and in a `run.progress` message (what `upshift watch` shows), and migrates the
 * shard once the lock is gone; its restore goes through the same throttle.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf, uuidv7 } from '@upshift/events';
import { shardsOfRun, startRun, withTransaction } from '@upshift/runtime';
import pg from 'pg';
import { startHandlerWithShop, type HandlerWithShop } from './support.ts';
import { fixtureEvent } from '../../../test/support/handler.ts';

const ref = 'orders-currency@1';
let fixture: HandlerWithShop;
let t: HandlerWithShop['t'];
let shop: pg.Client;

before(async () => {
  fixture = await startHandlerWithShop(1000);
  ({ t, shop } = fixture);
});

after(async () => {
  await fixture?.stop();
});

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a run and fans its migration out to one shard of 200-row batches: that shard's request. */
async function oneShardRequest(runId: string) {
  await withTransaction(t.store, async (tx) => void assert.ok(await startRun(tx, runId, {}, [])));
  assert.equal((await t.handle(fixtureEvent('migration.expand.requested', (data) => ({ ...data, runId, migrations: [ref] })))).statusCode, 200);
  const fanned = await t.handle(fixtureEvent('migration.requested', (data) => ({ ...data, runId, migrations: data.migrations.map((m) => ({ ...m, ref, shards: 1, batchSize: 200 })) })));
  const [request] = (await t.outputsOf(fanned)).filter((e) => isEventOf(e, 'shard.requested'));
  assert.ok(request && isEventOf(request, 'shard.requested'));
  return request;
}

/**
 * Another session holds SHARE on the orders table and the application's update of order `id` waits
 * behind it; `release` lets both go, `close` ends both sessions.
 */
async function blockOrders(id: number, note: string) {
  const blocker = new pg.Client({ connectionString: fixture.shopUrl, application_name: 'blocker' });
  const app = new pg.Client({ connectionString: fixture.shopUrl, application_name: 'shop-app' });
  await Promise.all([blocker.connect(), app.connect()]);
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE orders IN SHARE MODE');
  const appWrite = app.query('UPDATE orders SET note = $1 WHERE id = $2', [note, id]);
  appWrite.catch(() => undefined); // awaited by release; a session closed first must not fail the run
  const close = async () => {
    await blocker.query('ROLLBACK').catch(() => undefined);
    await Promise.all([blocker.end(), app.end()]);
  };
  await until('the application write to wait', async () => ((await shop.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'shop-app' AND wait_event_type = 'Lock'`)).rows[0]?.n === 1 ? true : undefined))
    .catch(async (error: unknown) => { await close(); throw error; });
  return { release: async () => { await blocker.query('ROLLBACK'); await appWrite; }, close };
}

test('a shard whose table is blocked by another lock holds, says why in its step and progress, and migrates once the lock goes', { timeout: 45_000 }, async () => {
  const runId = uuidv7();
  const request = await oneShardRequest(runId);
  const blocked = await blockOrders(7, 'app write while blocked');
  try {
    const handling = t.handle(request);
    const held = await until('the shard step to say it holds', async () => {
      const [shard] = await shardsOfRun(t.store, runId);
      const throttle = (shard?.checkpoint as { throttle?: { state: string; reason: string } } | undefined)?.throttle;
      return throttle?.state === 'held' ? throttle : undefined;
    });
    assert.match(held.reason, /1 session waiting for locks on public\.orders \(not ours/);
    const message = await until('a run.progress saying so', async () => {
      const { rows } = await t.store.query<{ message: string }>(
        `SELECT event->'data'->>'message' AS message FROM upshift.outbox WHERE type = 'dev.upshift.run.progress.v1' AND event->'data'->>'runId' = $1`, [runId]);
      return rows.find((row) => row.message.includes('throttle held'))?.message;
    });
    assert.match(message, /: 0 scanned, 0 changed in 0 batches .*; throttle held \d+ s: 1 session waiting for locks on public\.orders/);
    const { rows: untouched } = await shop.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE schema_version = 2');
    assert.equal(untouched[0]?.n, 0, 'no batch ran while the table was blocked');
    await blocked.release();
    const result = await handling;
    assert.equal(result.statusCode, 200, JSON.stringify(result.body));
    const [completed] = await t.outputsOf(result);
    assert.ok(completed && isEventOf(completed, 'shard.completed'), completed?.type);
    assert.equal(completed.data.rowsMigrated, 1000);
    const { rows: kept } = await shop.query<{ note: string }>('SELECT note FROM orders WHERE id = 7');
    assert.equal(kept[0]?.note, 'app write while blocked', 'the application write made while the shard held is kept');
  } finally {
    await blocked.close();
  }
});

test('a restore goes through the store throttle: it holds while the table is blocked by another lock (no page queues behind it) and restores once the lock goes', { timeout: 45_000 }, async () => {
  const runId = uuidv7();
  const request = await oneShardRequest(runId);
  assert.equal((await t.handle(request)).statusCode, 200);
  const migrated = async () => (await shop.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE schema_version = 2')).rows[0]?.n;
  assert.equal(await migrated(), 1000);

  const blocked = await blockOrders(9, 'app write while the restore held');
  try {
    const restore = fixtureEvent('shard.restore.requested', (data) => ({ ...data, runId, shardId: request.data.shardId, migration: ref, reason: 'test: restore while blocked' }));
    const handling = t.handle(restore);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const { rows: queued } = await shop.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'shop-app' AND wait_event_type = 'Lock'`);
    assert.equal(queued[0]?.n, 0, 'no restore page queued behind the lock (only the application waits)');
    assert.equal(await migrated(), 1000, 'nothing restored while the table was blocked');
    await blocked.release();
    const result = await handling;
    assert.equal(result.statusCode, 200, JSON.stringify(result.body));
    const [done] = await t.outputsOf(result);
    assert.ok(done && isEventOf(done, 'shard.restore.done'), done?.type);
    assert.equal(done.data.outcome, 'restored', JSON.stringify(done.data));
    assert.equal(await migrated(), 0, 'every row is back at the old version');
  } finally {
    await blocked.close();
  }
});
