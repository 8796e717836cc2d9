/**
 * The per-process memory of planned runs (real control store): a planned run is read once and then
 * answered from memory, a run not planned yet is read again each time (its plan may still come), an
 * unknown run answers no checksums and the default limits, and the memory keeps the most recent runs only.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defaultStrategyThrottle } from '@upshift/events/contract';
import type pg from 'pg';
import { savePlan, startRun, withTransaction, type Queryable } from '@upshift/runtime';
import { freshControlStore, stackEnv } from '../../../runtime/test/support/stack.ts';
import { PlannedRuns } from '../src/adapters/planned-runs.ts';

const env = stackEnv();
let store: Awaited<ReturnType<typeof freshControlStore>>;
let pool: pg.Pool;

before(async () => {
  store = await freshControlStore(env);
  pool = store.pool;
});

after(async () => {
  await store?.close();
});

/** The pool, counting the statements sent through it. */
function counted(): { db: Queryable; reads: () => number } {
  let reads = 0;
  const db = { query: (text: string, values?: unknown[]) => { reads += 1; return pool.query(text, values); } } as unknown as Queryable;
  return { db, reads: () => reads };
}

async function plannedRun(runId: string, checksum: string): Promise<void> {
  await withTransaction(pool, (tx) => startRun(tx, runId, { policy: { spec: { strategy: { throttle: { maxActiveSessions: 9 } } } } }, []));
  await withTransaction(pool, (tx) => savePlan(tx, { runId, migrations: [{ ref: 'orders@1', checksum }] } as never));
}

test('a planned run is read once; a run not planned yet is read each time; an unknown run gets the defaults', async () => {
  const runs = new PlannedRuns();
  const { db: store, reads } = counted();
  await plannedRun('planned-1', 'sha256:11');
  for (let i = 0; i < 3; i++) {
    const run = await runs.of(store, 'planned-1');
    assert.equal(run.checksums.get('orders@1'), 'sha256:11');
    assert.equal(run.throttle.maxActiveSessions, 9);
  }
  assert.equal(reads(), 1);

  await withTransaction(pool, (tx) => startRun(tx, 'unplanned-1', { policy: {} }, []));
  await runs.of(store, 'unplanned-1');
  await withTransaction(pool, (tx) => savePlan(tx, { runId: 'unplanned-1', migrations: [{ ref: 'orders@1', checksum: 'sha256:22' }] } as never));
  assert.equal((await runs.of(store, 'unplanned-1')).checksums.get('orders@1'), 'sha256:22', 'read again: the plan came meanwhile');
  assert.equal(reads(), 3);

  const unknown = await runs.of(store, 'no-such-run');
  assert.equal(unknown.checksums.size, 0);
  assert.deepEqual(unknown.throttle, defaultStrategyThrottle);
});

test('the memory keeps the most recent runs only', async () => {
  const runs = new PlannedRuns(2);
  const { db: store, reads } = counted();
  for (const runId of ['keep-a', 'keep-b', 'keep-c']) await plannedRun(runId, `sha256:${runId}`);
  for (const runId of ['keep-a', 'keep-b', 'keep-c']) await runs.of(store, runId);
  assert.equal(reads(), 3);
  await runs.of(store, 'keep-c');
  await runs.of(store, 'keep-b');
  assert.equal(reads(), 3, 'the two most recent are kept');
  assert.equal((await runs.of(store, 'keep-a')).checksums.get('orders@1'), 'sha256:keep-a');
  assert.equal(reads(), 4, 'the oldest was let go and is read again');
});
