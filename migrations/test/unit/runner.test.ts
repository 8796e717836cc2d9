/** The shard loop against an in-memory engine: resumes, freezes the ceiling, throttles, stops on abort. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialCheckpoint, MigrationError, runShard } from '../../src/index.ts';
import type { BatchRequest, BatchResult, MigrationEngine, ShardCheckpoint } from '../../src/index.ts';

/** Keys 1..n as a sorted in-memory table; `migrated` counts how often each key was changed. */
function memoryEngine(keys: number[], options: { throttleOnCalls?: number[] } = {}) {
  const migrated = new Map<number, number>();
  const requests: BatchRequest[] = [];
  let calls = 0;
  const engine: Partial<MigrationEngine> = {
    ref: 'memory@1',
    maxKey: async () => (keys.length > 0 ? String(Math.max(...keys)) : null),
    runBatch: async (request): Promise<BatchResult> => {
      calls += 1;
      requests.push(request);
      if (options.throttleOnCalls?.includes(calls)) throw new MigrationError('THROTTLED', 'lock timeout');
      const after = request.after === null ? Number.NEGATIVE_INFINITY : Number(request.after);
      const ceiling = request.ceiling === null ? Number.POSITIVE_INFINITY : Number(request.ceiling);
      const page = keys.filter((key) => key > after && key <= ceiling).slice(0, request.batchSize);
      let changed = 0;
      for (const key of page) {
        if (!migrated.has(key)) changed += 1;
        migrated.set(key, (migrated.get(key) ?? 0) + (migrated.has(key) ? 0 : 1));
      }
      return { lastKey: page.length > 0 ? String(page.at(-1)) : request.after, scanned: page.length, changed, durationMs: 200, done: page.length < request.batchSize };
    },
  };
  return { engine: engine as MigrationEngine, migrated, requests };
}

const fixed = { targetMs: 200, min: 10, max: 10, maxGrowth: 1, maxShrink: 1 };
const range = { start: null, end: null };

test('runs a shard to the end, reporting every committed checkpoint', async () => {
  const { engine, migrated } = memoryEngine(Array.from({ length: 95 }, (_, i) => i + 1));
  const seen: ShardCheckpoint[] = [];
  const final = await runShard({ engine, shard: { range, backup: true }, checkpoint: initialCheckpoint(10), limits: fixed, onBatch: async (checkpoint) => { seen.push(checkpoint); } });
  assert.equal(final.done, true);
  assert.equal(final.changed, 95);
  assert.equal(seen.length, 10);
  assert.deepEqual(seen.map((checkpoint) => checkpoint.lastKey), ['10', '20', '30', '40', '50', '60', '70', '80', '90', '95']);
  assert.equal(migrated.size, 95);
});

test('resumes from a persisted checkpoint without redoing committed batches', async () => {
  const { engine, requests } = memoryEngine(Array.from({ length: 50 }, (_, i) => i + 1));
  const resumed = { ...initialCheckpoint(10), lastKey: '30', ceiling: '50', ceilingResolved: true, changed: 30, scanned: 30, batches: 3 };
  const final = await runShard({ engine, shard: { range, backup: true }, checkpoint: resumed, limits: fixed, onBatch: async () => undefined });
  assert.equal(requests[0]?.after, '30');
  assert.equal(final.changed, 50);
  assert.equal(final.batches, 6);
});

test('freezes the ceiling of an open-ended shard: keys inserted beyond it do not keep it going', async () => {
  const keys = Array.from({ length: 20 }, (_, i) => i + 1);
  const { engine } = memoryEngine(keys);
  const final = await runShard({
    engine, shard: { range, backup: true }, checkpoint: initialCheckpoint(10), limits: fixed,
    onBatch: async () => { for (let i = 0; i < 10; i++) keys.push((keys.at(-1) ?? 0) + 1); },
  });
  assert.equal(final.ceiling, '20');
  assert.equal(final.done, true);
  assert.equal(final.changed, 20);
});

test('a lock timeout halves the batch, backs off and counts a throttle; too many in a row rethrow', async () => {
  const { engine } = memoryEngine(Array.from({ length: 30 }, (_, i) => i + 1), { throttleOnCalls: [2] });
  const final = await runShard({ engine, shard: { range, backup: true }, checkpoint: initialCheckpoint(20), onBatch: async () => undefined, limits: { ...fixed, max: 20 } });
  assert.equal(final.throttles, 1);
  assert.equal(final.changed, 30);
  const failing = memoryEngine([1, 2, 3], { throttleOnCalls: [1, 2, 3] });
  await assert.rejects(runShard({ engine: failing.engine, shard: { range, backup: true }, checkpoint: initialCheckpoint(10), onBatch: async () => undefined, maxThrottlesInARow: 2 }),
    (error: unknown) => error instanceof MigrationError && error.code === 'THROTTLED');
});

test('stops between batches when aborted, leaving a resumable checkpoint', async () => {
  const { engine } = memoryEngine(Array.from({ length: 100 }, (_, i) => i + 1));
  const controller = new AbortController();
  const final = await runShard({
    engine, shard: { range, backup: true }, checkpoint: initialCheckpoint(10), limits: fixed, signal: controller.signal,
    onBatch: async (checkpoint) => { if (checkpoint.batches === 3) controller.abort(); },
  });
  assert.equal(final.done, false);
  assert.equal(final.lastKey, '30');
});
