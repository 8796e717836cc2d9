/** The adaptive batch-size controller, table-driven, and its fitted line on stores of known cost. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultBatchSizeLimits, fitBatchTime, nextBatchSize, rememberBatch, rowsForTarget, throttledBatchSize } from '../../src/index.ts';
import type { BatchObservation, BatchSizeLimits } from '../../src/index.ts';
import { batchHistoryLength, maxStretch, throttleDelayMs } from '../../src/core/batch-size.ts';

const one = (batchSize: number, durationMs: number, scanned = batchSize): BatchObservation => ({ batchSize, durationMs, scanned });

const firstSteps: Array<{ name: string; batchSize: number; durationMs: number; scanned?: number; expected: number }> = [
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

for (const { name, batchSize, durationMs, scanned, expected } of firstSteps) {
  test(`nextBatchSize before a line can be fitted: ${name}`, () => {
    assert.equal(nextBatchSize([one(batchSize, durationMs, scanned)]), expected);
  });
}

const fits: Array<{ name: string; batches: BatchObservation[]; expected: { fixedMs: number; perRowMs: number } | undefined }> = [
  { name: 'a linear store', batches: [one(100, 60), one(200, 110), one(400, 210)], expected: { fixedMs: 10, perRowMs: 0.5 } },
  { name: 'a store with a large fixed cost', batches: [one(35, 230), one(70, 240), one(140, 260)], expected: { fixedMs: 220, perRowMs: 2 / 7 } },
  { name: 'one batch slowed by a neighbour does not move the line', batches: [one(100, 60), one(200, 110), one(300, 900), one(400, 210), one(500, 260)], expected: { fixedMs: 10, perRowMs: 0.5 } },
  { name: 'time that does not grow with size: no cost per row', batches: [one(100, 200), one(200, 190), one(400, 180)], expected: { fixedMs: 620 / 3, perRowMs: -1 / 15 } },
  { name: 'never a negative fixed cost', batches: [one(100, 40), one(200, 100), one(400, 220)], expected: { fixedMs: 0, perRowMs: 0.6 } },
  { name: 'batches of one size say nothing about the cost per row', batches: [one(100, 60), one(100, 70), one(105, 65)], expected: undefined },
  { name: 'two batches are too few', batches: [one(100, 60), one(400, 210)], expected: undefined },
  { name: 'empty pages are left out', batches: [one(100, 60, 0), one(200, 110, 0), one(400, 210)], expected: undefined },
];

for (const { name, batches, expected } of fits) {
  test(`fitBatchTime: ${name}`, () => {
    const fit = fitBatchTime(batches);
    if (expected === undefined) return assert.equal(fit, undefined);
    assert.ok(fit && Math.abs(fit.fixedMs - expected.fixedMs) < 1e-6 && Math.abs(fit.perRowMs - expected.perRowMs) < 1e-9, JSON.stringify(fit));
  });
}

const aims: Array<{ name: string; fixedMs: number; perRowMs: number; expected: number }> = [
  { name: 'no fixed cost: the rows of the target', fixedMs: 0, perRowMs: 0.1, expected: 2000 },
  { name: 'a small fixed cost comes off the target', fixedMs: 50, perRowMs: 0.1, expected: 1500 },
  { name: 'a fixed cost of half the target: still the target', fixedMs: 100, perRowMs: 0.1, expected: 1000 },
  { name: 'a fixed cost over the target: as many rows as the fixed cost', fixedMs: 300, perRowMs: 1, expected: 300 },
  { name: 'a fixed cost over the stretch: rows up to the stretch, never fewer', fixedMs: 5000, perRowMs: 1, expected: (maxStretch - 1) * 200 },
  { name: 'rows that cost nothing: no limit', fixedMs: 100, perRowMs: 0, expected: Number.POSITIVE_INFINITY },
];

for (const { name, fixedMs, perRowMs, expected } of aims) {
  test(`rowsForTarget (200 ms): ${name}`, () => {
    const rows = rowsForTarget({ fixedMs, perRowMs }, 200);
    assert.ok(rows === expected || Math.abs(rows - expected) < 1e-6, String(rows));
  });
}

/** Runs the controller against a store whose batch takes `cost(rows)` ms; returns the sizes it asked for. */
function drive(cost: (rows: number) => number, steps: number, limits: BatchSizeLimits = defaultBatchSizeLimits, start = 1000): number[] {
  let recent: BatchObservation[] = [];
  let size = start;
  const sizes = [size];
  for (let step = 0; step < steps; step++) {
    recent = rememberBatch(recent, one(size, cost(size)));
    size = nextBatchSize(recent, limits);
    sizes.push(size);
  }
  return sizes;
}

const settled = (sizes: number[]) => sizes.slice(-6).reduce((sum, size) => sum + size, 0) / 6;

test('settles where a linear store takes the target per batch, dithering around it', () => {
  const sizes = drive((rows) => 0.05 * rows, 40, defaultBatchSizeLimits, 100);
  assert.ok(Math.abs(settled(sizes) * 0.05 - 200) < 20, `settled at ${settled(sizes)}`);
  const last = sizes.slice(-2);
  assert.notEqual(last[0], last[1], 'a settled size keeps a spread for the fit');
});

test('a store with a large fixed cost gets bigger batches, not smaller (FerretDB: ~220 ms a batch whatever it holds)', () => {
  const ferret = (rows: number) => 220 + 0.3 * rows;
  const limits = { ...defaultBatchSizeLimits, targetMs: 100 };
  const sizes = drive(ferret, 40, limits, 35);
  const rows = settled(sizes);
  // Aim: rows that take as long as the fixed cost (half of each batch is work): 220 / 0.3 ≈ 733 rows.
  assert.ok(rows > 640 && rows < 830, `settled at ${rows}`);
  assert.ok(ferret(rows) - 220 <= (maxStretch - 1) * limits.targetMs, 'its rows take at most the stretch');
});

test('follows a store that becomes slower', () => {
  let perRow = 0.05;
  let recent: BatchObservation[] = [];
  let size = 4000;
  for (let step = 0; step < 60; step++) {
    if (step === 30) perRow = 0.2;
    recent = rememberBatch(recent, one(size, 5 + perRow * size));
    size = nextBatchSize(recent);
  }
  assert.ok(Math.abs(5 + 0.2 * size - 200) < 40, `settled at ${size}`);
});

test('a line that says rows cost nothing does not grow batches without bound (noise on a loaded store)', () => {
  const flat = [one(100, 200), one(200, 190), one(400, 180)];
  assert.ok(nextBatchSize(flat) < 500, 'near the target: a proportional step, not a doubling');
  const noisy = [one(100, 500), one(200, 450), one(400, 400)];
  assert.ok(nextBatchSize(noisy) < 400, 'slow batches shrink even though the line is flat');
});

test('a last batch far slower than the line predicts shrinks the next one (the store became slower)', () => {
  const recent = [one(800, 45), one(1000, 55), one(1200, 65), one(1000, 450)];
  assert.ok(nextBatchSize(recent) < 1000, String(nextBatchSize(recent)));
});

test('keeps the last batches only', () => {
  let recent: BatchObservation[] = [];
  for (let size = 1; size <= 20; size++) recent = rememberBatch(recent, one(size, size));
  assert.deepEqual(recent.map((batch) => batch.batchSize), Array.from({ length: batchHistoryLength }, (_, i) => 21 - batchHistoryLength + i));
});

test('fixed bounds hold whatever the line says', () => {
  const limits = { targetMs: 200, min: 10, max: 10, maxGrowth: 1, maxShrink: 1 };
  assert.deepEqual(new Set(drive((rows) => rows, 10, limits, 10)), new Set([10]));
});

test('throttling halves the batch (not below the minimum) and backs off exponentially up to 5 s', () => {
  assert.deepEqual([1000, 15, 10].map((size) => throttledBatchSize(size)), [500, 10, 10]);
  assert.deepEqual([1, 2, 3, 8, 20].map(throttleDelayMs), [100, 200, 400, 5000, 5000]);
});
