/**
 * Leases against the real PostgreSQL: exclusive until expiry, fencing tokens increase on every
 * acquisition, and a write guarded by a stale token is refused; one active run per target.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import { isUpshiftError } from '../src/errors.ts';
import { acquireLease, guardedWrite, heartbeatLease, releaseLease, startHeartbeat } from '../src/store/leases.ts';
import type { UpshiftError } from '../src/errors.ts';
import { migrateStore } from '../src/store/migrate.ts';
import { createPool, withTransaction } from '../src/store/pool.ts';
import { claimShard, commitCheckpoint, ensureShard, ensureStep, markRestoring, readStep, saveCheckpoint, setRunStatus, startRun } from '../src/store/run-state/index.ts';
import { freshDatabase, stackEnv } from './support/stack.ts';

const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let pool: Pool;

before(async () => {
  db = await freshDatabase(env);
  pool = createPool(db.url);
  await Promise.all([migrateStore(pool), migrateStore(pool), migrateStore(pool)]); // concurrent start-ups
});

after(async () => {
  await pool?.end();
  await db?.drop();
});

function rejectsWith(code: string): (err: unknown) => boolean {
  return (err) => isUpshiftError(err) && err.code === code;
}

test('a second holder cannot acquire before expiry, can after, and the old token is refused', { timeout: 20_000 }, async () => {
  const first = await acquireLease(pool, 'shard:a', 'pod-1', 400);
  await assert.rejects(acquireLease(pool, 'shard:a', 'pod-2', 400), rejectsWith('LEASE_HELD'));
  await withTransaction(pool, (tx) => guardedWrite(tx, first, () => tx.query('SELECT 1')));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const second = await acquireLease(pool, 'shard:a', 'pod-2', 10_000);
  assert.ok(second.token > first.token, 'fencing token increases on every acquisition');
  await assert.rejects(
    withTransaction(pool, (tx) => guardedWrite(tx, first, () => tx.query('SELECT 1'))),
    rejectsWith('STALE_FENCING_TOKEN'),
  );
  await assert.rejects(heartbeatLease(pool, first, 1000), rejectsWith('STALE_FENCING_TOKEN'));
  const extended = await heartbeatLease(pool, second, 10_000);
  assert.equal(extended.token, second.token);
  assert.equal(await releaseLease(pool, first), false, 'a stale release is a no-op');
  assert.equal(await releaseLease(pool, second), true);
  const third = await acquireLease(pool, 'shard:a', 'pod-3', 1000);
  assert.ok(third.token > second.token, 'released lease is free at once');
});

test('a checkpoint written with a stale token is refused; the current holder writes', { timeout: 20_000 }, async () => {
  const step = { runId: 'run-fence', kind: 'shard', key: 's0' } as const;
  await withTransaction(pool, async (tx) => {
    await startRun(tx, 'run-fence', {}, []);
    await ensureStep(tx, step);
  });
  const old = await acquireLease(pool, 'shard:s0', 'pod-1', 100);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const current = await acquireLease(pool, 'shard:s0', 'pod-2', 10_000);
  await withTransaction(pool, (tx) => saveCheckpoint(tx, step, { checkpoint: { after: 10 }, status: 'running' }, current));
  await assert.rejects(
    withTransaction(pool, (tx) => saveCheckpoint(tx, step, { checkpoint: { after: 5 } }, old)),
    rejectsWith('STALE_FENCING_TOKEN'),
  );
  const stored = await readStep(pool, step);
  assert.deepEqual(stored?.checkpoint, { after: 10 });
  assert.equal(stored?.fencingToken, current.token);
});

test('a shard claim and a batch checkpoint are one fenced statement each: settled steps answer their status, a stale or expired lease is refused, a lease taken meanwhile wins', { timeout: 20_000 }, async () => {
  const step = { runId: 'run-claim', kind: 'shard', key: 'c0' } as const;
  await withTransaction(pool, async (tx) => {
    await startRun(tx, 'run-claim', {}, []);
    await ensureStep(tx, step);
  });
  const expiring = await acquireLease(pool, 'shard:c0', 'pod-1', 150);
  let statements = 0;
  const counting = { query: (text: string, values?: unknown[]) => { statements += 1; return pool.query(text, values); } } as unknown as Pool;
  assert.equal(await claimShard(counting, step, expiring, { batches: 0 }), 'running');
  assert.equal(await commitCheckpoint(counting, step, expiring, { batches: 1 }), 'running');
  assert.equal(statements, 2, 'one statement each, no transaction around it');
  await new Promise((resolve) => setTimeout(resolve, 250));
  // Expired, not yet taken by anyone: still refused, nothing written.
  await assert.rejects(commitCheckpoint(pool, step, expiring, { batches: 2 }), rejectsWith('STALE_FENCING_TOKEN'));
  const current = await acquireLease(pool, 'shard:c0', 'pod-2', 10_000);
  await assert.rejects(claimShard(pool, step, expiring, { batches: 0 }), rejectsWith('STALE_FENCING_TOKEN'));
  assert.equal(await claimShard(pool, step, current, { batches: 1 }), 'running');
  let stored = await readStep(pool, step);
  assert.deepEqual(stored?.checkpoint, { batches: 1 });
  assert.equal(stored?.attempt, 2, 'each claim is a new attempt');
  // A restore asks the worker to stop: the next checkpoint says so (and is kept), in a transaction with more or alone.
  await markRestoring(pool, step);
  assert.equal(await commitCheckpoint(pool, step, current, { batches: 2 }), 'restoring');
  let also = 0;
  assert.equal(await commitCheckpoint(pool, step, current, { batches: 3 }, async (tx) => { also += (await tx.query('SELECT 1')).rowCount ?? 0; }), 'restoring');
  assert.equal(also, 1);
  assert.deepEqual((await readStep(pool, step))?.checkpoint, { batches: 3 });
  // A settled step answers its status and is not written, whoever asks.
  await withTransaction(pool, (tx) => saveCheckpoint(tx, step, { checkpoint: { batches: 3 }, status: 'completed' }, current));
  assert.equal(await claimShard(pool, step, current, { batches: 0 }), 'completed');
  assert.equal(await claimShard(pool, step, expiring, { batches: 0 }), 'completed');
  stored = await readStep(pool, step);
  assert.deepEqual([stored?.status, stored?.checkpoint, stored?.attempt], ['completed', { batches: 3 }, 2]);
  // A step no one recorded cannot be claimed.
  await assert.rejects(claimShard(pool, { ...step, key: 'never' }, current, {}), rejectsWith('STALE_FENCING_TOKEN'));
});

test('a shard step is created once and then read as stored, by concurrent first deliveries too; an unknown run is named', { timeout: 20_000 }, async () => {
  await withTransaction(pool, (tx) => startRun(tx, 'run-ensure', {}, []));
  const step = { runId: 'run-ensure', kind: 'shard', key: 'e0' } as const;
  const firsts = await Promise.all(Array.from({ length: 10 }, (_, i) => ensureShard(pool, step, { planned: i })));
  const stored = await readStep(pool, step);
  assert.ok(firsts.every((found) => found.status === 'pending' && JSON.stringify(found.checkpoint) === JSON.stringify(stored?.checkpoint)),
    JSON.stringify({ firsts, stored: stored?.checkpoint }));
  const lease = await acquireLease(pool, 'shard:e0', 'pod-1', 10_000);
  await claimShard(pool, step, lease, { batches: 4 });
  assert.deepEqual(await ensureShard(pool, step, { planned: 'again' }), { status: 'running', checkpoint: { batches: 4 } });
  await assert.rejects(ensureShard(pool, { ...step, runId: 'no-such-run' }, {}), (err) => isUpshiftError(err) && err.code === 'CONTRACT_VIOLATION' && /no-such-run/.test(err.message));
});

test('only one active run per workload, enforced by the database', { timeout: 20_000 }, async () => {
  const target = { kind: 'workload', target: 'prod/orders/Deployment/api' } as const;
  await withTransaction(pool, (tx) => startRun(tx, 'run-one', {}, [target]));
  await assert.rejects(withTransaction(pool, (tx) => startRun(tx, 'run-two', {}, [target])), rejectsWith('CONFLICT'));
  await withTransaction(pool, (tx) => setRunStatus(tx, 'run-one', 'completed'));
  await withTransaction(pool, (tx) => startRun(tx, 'run-two', {}, [target]));
});

test('a background heartbeat keeps a lease past its TTL and reports when it is lost', { timeout: 20_000 }, async () => {
  const lease = await acquireLease(pool, 'shard:hb', 'pod-1', 300);
  const lost: UpshiftError[] = [];
  const heartbeat = startHeartbeat(pool, lease, { ttlMs: 300, everyMs: 50, onLost: (err) => lost.push(err) });
  await new Promise((resolve) => setTimeout(resolve, 700));
  await assert.rejects(acquireLease(pool, 'shard:hb', 'pod-2', 300), rejectsWith('LEASE_HELD'));
  await withTransaction(pool, (tx) => guardedWrite(tx, heartbeat.lease(), () => tx.query('SELECT 1')));
  await heartbeat.stop();
  await new Promise((resolve) => setTimeout(resolve, 400));
  const thief = await acquireLease(pool, 'shard:hb', 'pod-2', 10_000);
  const orphan = startHeartbeat(pool, lease, { ttlMs: 300, everyMs: 20, onLost: (err) => lost.push(err) });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await orphan.stop();
  assert.equal(lost.length, 1);
  assert.equal(lost[0]?.code, 'STALE_FENCING_TOKEN');
  assert.ok(thief.token > lease.token);
});
