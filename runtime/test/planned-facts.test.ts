/**
 * `readPlannedFacts` on the real control store: the planned checksums and the policy's throttle section
 * of a run, read in one statement without sending the whole plan; what a run without a plan, a plan
 * without checksums and an unknown run answer; refs with quotes and odd characters come back unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { withTransaction } from '../src/store/pool.ts';
import { readPlannedFacts, savePlan, startRun } from '../src/store/run-state/runs.ts';
import { freshControlStore, stackEnv } from './support/stack.ts';

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

const throttle = { maxActiveSessions: 7, storeBatchesInFlight: 'auto' };

test('a run is read as its planned checksums and its throttle section, before and after its plan', async () => {
  await withTransaction(pool, (tx) => startRun(tx, 'run-facts', { policy: { spec: { strategy: { throttle } } } }, []));
  const before = await readPlannedFacts(pool, 'run-facts');
  assert.deepEqual(before, { checksums: new Map(), planned: false, throttle });
  const odd = `o'dd"ref; DROP TABLE x@1`;
  const migrations = [
    { ref: 'orders-currency@1', checksum: 'sha256:aa' }, { ref: odd, checksum: 'sha256:bb' }, { ref: 'unpinned@1' },
  ];
  const shards = Array.from({ length: 5_000 }, (_, index) => ({ index, range: { from: index, to: index + 1 } }));
  await withTransaction(pool, (tx) => savePlan(tx, { runId: 'run-facts', migrations, shards } as never));
  const after = await readPlannedFacts(pool, 'run-facts');
  assert.equal(after?.planned, true);
  assert.deepEqual(after?.checksums, new Map([['orders-currency@1', 'sha256:aa'], [odd, 'sha256:bb']]));
  assert.deepEqual(after?.throttle, throttle);
});

test('a policy without a throttle section, a plan without migrations, and an unknown run', async () => {
  await withTransaction(pool, (tx) => startRun(tx, 'run-bare', { policy: { spec: {} } }, []));
  await withTransaction(pool, (tx) => savePlan(tx, { runId: 'run-bare' } as never));
  assert.deepEqual(await readPlannedFacts(pool, 'run-bare'), { checksums: new Map(), planned: true, throttle: undefined });
  assert.equal(await readPlannedFacts(pool, 'no-such-run'), undefined);
});
