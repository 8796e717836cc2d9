/** The adaptive batch-size controller, table-driven. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultBatchSizeLimits, nextBatchSize, throttledBatchSize } from '../../src/index.ts';
import { throttleDelayMs } from '../../src/core/batch-size.ts';

const cases: Array<{ name: string; batchSize: number; durationMs: number; scanned?: number; expected: number }> = [
  { name: 'on target: unchanged', batchSize: 1000, durationMs: 200, expected: 1000 },
  { name: 'twice as fast: grows (damped, ×2^0.7)', batchSize: 1000, durationMs: 100, expected: 1625 },
  { name: 'very fast: growth capped at ×2 then damped', batchSize: 1000, durationMs: 1, expected: 1625 },
  { name: 'twice as slow: shrinks (damped)', batchSize: 1000, durationMs: 400, expected: 616 },
  { name: 'far too slow: shrink capped at ×1/4 then damped', batchSize: 1000, durationMs: 10_000, expected: 379 },
  { name: 'never below the minimum', batchSize: 12, durationMs: 5000, expected: 10 },
  { name: 'never above the maximum', batchSize: 40_000, durationMs: 10, expected: 50_000 },
  { name: 'a short last page says nothing about speed', batchSize: 1000, durationMs: 5, scanned: 3, expected: 1000 },
  { name: 'a short but slow page still shrinks', batchSize: 1000, durationMs: 400, scanned: 10, expected: 616 },
];

for (const { name, batchSize, durationMs, scanned, expected } of cases) {
  test(`nextBatchSize: ${name}`, () => {
    assert.equal(nextBatchSize({ batchSize, durationMs, scanned: scanned ?? batchSize }), expected);
  });
}

test('nextBatchSize converges to the target duration for a store with a linear cost', () => {
  let size = 100;
  for (let step = 0; step < 30; step++) size = nextBatchSize({ batchSize: size, durationMs: size * 0.05, scanned: size });
  assert.ok(Math.abs(size * 0.05 - defaultBatchSizeLimits.targetMs) < 10, `settled at ${size}`);
});

test('throttling halves the batch (not below the minimum) and backs off exponentially up to 5 s', () => {
  assert.deepEqual([1000, 15, 10].map((size) => throttledBatchSize(size)), [500, 10, 10]);
  assert.deepEqual([1, 2, 3, 8, 20].map(throttleDelayMs), [100, 200, 400, 5000, 5000]);
});
