/**
 * Shard tallies against the real PostgreSQL (schema version 5): the fan-in and the migrate progress are
 * counted as shards are inserted (and deleted) and report, once each however they are inserted, so neither reads
 * every shard of the run; a database migrated with runs under way gets its tallies from their steps.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { shardIdFor } from '@upshift/events';
import type { Pool } from 'pg';
import { migrateStore } from '../src/store/migrate.ts';
import { createPool, withTransaction } from '../src/store/pool.ts';
import { countProgress, ensureShard, progressSlots, fanInByMigration, recordFinal, recordShards, reopenFailedShard, shardOutcomes, shardStep, startRun } from '../src/store/run-state/index.ts';
import { schemaVersions } from '../src/store/schema.ts';
import { freshDatabase, stackEnv } from './support/stack.ts';

const env = stackEnv();
const dbs: Array<Awaited<ReturnType<typeof freshDatabase>>> = [];
const pools: Pool[] = [];
let pool: Pool;

async function store(versions = schemaVersions): Promise<Pool> {
  const db = await freshDatabase(env);
  dbs.push(db);
  const created = createPool(db.url);
  pools.push(created);
  await migrateStore(created, versions);
  return created;
}

before(async () => {
  pool = await store();
});

after(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await Promise.all(dbs.map((db) => db.drop()));
});

async function newRun(db: Pool, runId: string): Promise<void> {
  await withTransaction(db, (tx) => startRun(tx, runId, {}, []));
}

test('fan-out, a shard requested without fan-out and fan-in outcomes are each counted once', { timeout: 30_000 }, async () => {
  const runId = 'tally-run-1';
  await newRun(pool, runId);
  const ids = Array.from({ length: 5 }, (_, i) => shardIdFor(runId, 'orders@1', i));
  await withTransaction(pool, async (tx) => {
    await recordShards(tx, runId, ids.map((shardId) => ({ shardId, checkpoint: {} })));
    await recordShards(tx, runId, ids.map((shardId) => ({ shardId, checkpoint: {} }))); // a redelivered fan-out
  });
  await ensureShard(pool, shardStep(runId, shardIdFor(runId, 'orders@1', 5)), {});
  await ensureShard(pool, shardStep(runId, ids[0]!), {}); // already planned
  await ensureShard(pool, shardStep(runId, shardIdFor(runId, 'users@2', 0)), {});
  await withTransaction(pool, async (tx) => {
    assert.equal(await recordFinal(tx, runId, 'fanin', ids[0]!, { status: 'completed', rows: 7, migration: 'orders@1' }), true);
    assert.equal(await recordFinal(tx, runId, 'fanin', ids[0]!, { status: 'completed', rows: 7, migration: 'orders@1' }), false, 'recorded once');
    await recordFinal(tx, runId, 'fanin', ids[1]!, { status: 'failed', rows: 2, migration: 'orders@1', reason: 'boom' });
  });
  const fanIn = await withTransaction(pool, (tx) => fanInByMigration(tx, runId, 'fanin'));
  assert.deepEqual(Object.fromEntries(fanIn), { 'orders@1': { total: 6, final: 2, failed: 1 }, 'users@2': { total: 1, final: 0, failed: 0 } });
  const outcomes = await withTransaction(pool, (tx) => shardOutcomes(tx, runId));
  assert.deepEqual(outcomes.failed, [`${ids[1]}: boom`]);
  assert.deepEqual(Object.fromEntries(outcomes.rows), { 'orders@1': { shards: 2, rows: 9 } });
  await pool.query(`UPDATE upshift.steps SET status = 'failed' WHERE run_id = $1 AND kind = 'shard' AND key = $2`, [runId, ids[1]]); // as migrate-shard left it
  assert.equal(await withTransaction(pool, (tx) => reopenFailedShard(tx, runId, ids[1]!)), true, 'the operator retries the failed shard');
  const retried = await withTransaction(pool, (tx) => fanInByMigration(tx, runId, 'fanin'));
  assert.deepEqual(retried.get('orders@1'), { total: 6, final: 1, failed: 0 }, 'its fan-in record forgotten and counted out');
});

test('progress adds what each report adds and returns the run totals over its migrations', { timeout: 30_000 }, async () => {
  const runId = 'tally-run-2';
  await newRun(pool, runId);
  await withTransaction(pool, async (tx) => {
    await recordShards(tx, runId, [0, 1].map((i) => ({ shardId: shardIdFor(runId, 'a@1', i), checkpoint: {} })));
    await recordShards(tx, runId, [{ shardId: shardIdFor(runId, 'b@1', 0), checkpoint: {} }]);
  });
  const first = await withTransaction(pool, (tx) => countProgress(tx, runId, { migration: 'a@1', index: 0 }, { done: 0, rows: 10, share: 0.5 }));
  assert.deepEqual(first, { shards: 3, done: 0, rows: 10, share: 0.5 });
  await withTransaction(pool, (tx) => countProgress(tx, runId, { migration: 'b@1', index: 0 }, { done: 1, rows: 4, share: 1 }));
  const last = await withTransaction(pool, (tx) => countProgress(tx, runId, { migration: 'a@1', index: 1 }, { done: 1, rows: 10, share: 0.5 }));
  assert.deepEqual(last, { shards: 3, done: 2, rows: 24, share: 2 });
});

test('shards of one migration report at once without waiting for each other, and the totals add up over their tally rows', { timeout: 30_000 }, async () => {
  const runId = 'tally-run-4';
  await newRun(pool, runId);
  const ids = Array.from({ length: progressSlots + 1 }, (_, i) => shardIdFor(runId, 'd@1', i));
  await withTransaction(pool, (tx) => recordShards(tx, runId, ids.map((shardId) => ({ shardId, checkpoint: {} }))));
  const holder = await pool.connect();
  try {
    // Shard 0's report stays uncommitted (its transaction still saving the checkpoint): it holds its row.
    await holder.query('BEGIN');
    await countProgress(holder, runId, { migration: 'd@1', index: 0 }, { done: 1, rows: 2, share: 1 });
    const others = await Promise.all(Array.from({ length: progressSlots - 1 }, (_, i) => withTransaction(pool, async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '2s'`);
      return countProgress(tx, runId, { migration: 'd@1', index: i + 1 }, { done: 1, rows: 2, share: 1 });
    })));
    assert.equal(others.length, progressSlots - 1, 'shards 1–15 counted in while shard 0 held its row');
    const waiting = withTransaction(pool, async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '300ms'`);
      return countProgress(tx, runId, { migration: 'd@1', index: progressSlots }, { done: 1, rows: 2, share: 1 });
    });
    await assert.rejects(waiting, /lock timeout/, `shard ${progressSlots} shares shard 0's row (the test can fail)`);
    await holder.query('COMMIT');
  } finally {
    holder.release();
  }
  const total = await withTransaction(pool, (tx) => countProgress(tx, runId, { migration: 'd@1', index: progressSlots }, { done: 1, rows: 2, share: 1 }));
  assert.deepEqual(total, { shards: progressSlots + 1, done: progressSlots + 1, rows: 2 * (progressSlots + 1), share: progressSlots + 1 });
  const fanIn = await withTransaction(pool, (tx) => fanInByMigration(tx, runId, 'fanin'));
  assert.deepEqual(fanIn.get('d@1'), { total: progressSlots + 1, final: 0, failed: 0 }, 'planned shards counted once over the slots');
});

test('a store migrated with a run under way gets the run\'s tallies from its steps', { timeout: 30_000 }, async () => {
  const old = await store(schemaVersions.filter((v) => v.version < 5));
  const runId = 'tally-run-3';
  await newRun(old, runId);
  const ids = [0, 1, 2].map((i) => shardIdFor(runId, 'c@1', i));
  await old.query(`INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint) SELECT $1, 'shard', k, 'completed', '{"checkpoint":{"changed":3}}' FROM unnest($2::text[]) k`, [runId, ids]);
  await old.query(`INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint) VALUES ($1, 'fanin', $2, 'failed', '{"rows":3,"migration":"c@1"}')`, [runId, ids[0]]);
  await migrateStore(old);
  const fanIn = await withTransaction(old, (tx) => fanInByMigration(tx, runId, 'fanin'));
  assert.deepEqual(Object.fromEntries(fanIn), { 'c@1': { total: 3, final: 1, failed: 1 } });
  const progress = await withTransaction(old, (tx) => countProgress(tx, runId, { migration: 'c@1', index: 5 }, { done: 0, rows: 0, share: 0 }));
  assert.deepEqual(progress, { shards: 3, done: 3, rows: 9, share: 3 });
});
