import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cappedBatchSize, nextBatchAt, shardGate, throttledBatchCap } from '../../src/core/pacing.ts';

test('the throttle caps the adaptive batch size; without one the adaptive size stands', () => {
  const cases = [
    { name: 'no throttle', requested: 800, throttle: undefined, size: 800 },
    { name: 'batch size cap', requested: 800, throttle: { batchSize: 100 }, size: 100 },
    { name: 'cap above the adaptive size', requested: 50, throttle: { batchSize: 100 }, size: 50 },
    { name: 'one second of rows at most', requested: 800, throttle: { rowsPerSecond: 200 }, size: 200 },
    { name: 'the smaller of both', requested: 800, throttle: { rowsPerSecond: 300, batchSize: 120 }, size: 120 },
    { name: 'pause only: no cap', requested: 800, throttle: { pauseMs: 100 }, size: 800 },
  ];
  for (const c of cases) assert.equal(cappedBatchSize(c.requested, c.throttle), c.size, c.name);
  assert.equal(throttledBatchCap({}), undefined);
});

test('the next batch waits for the rate since the last batch began and the pause since it ended', () => {
  const batch = { rows: 100, startedAt: 1_000, endedAt: 1_050 };
  const cases = [
    { name: 'no throttle: at once', throttle: undefined, at: 1_050 },
    { name: '100 rows at 200/s: 500 ms after the start', throttle: { rowsPerSecond: 200 }, at: 1_500 },
    { name: 'fast enough already', throttle: { rowsPerSecond: 10_000 }, at: 1_050 },
    { name: 'pause after the end', throttle: { pauseMs: 300 }, at: 1_350 },
    { name: 'the later of rate and pause', throttle: { rowsPerSecond: 200, pauseMs: 300 }, at: 1_500 },
    { name: 'pause longer than the rate', throttle: { rowsPerSecond: 1000, pauseMs: 300 }, at: 1_350 },
  ];
  for (const c of cases) assert.equal(nextBatchAt(c.throttle, batch), c.at, c.name);
});

test('between batches a shard goes on, pauses, or stops with its run', () => {
  assert.deepEqual(shardGate({ status: 'running', paused: false }), { kind: 'go' });
  assert.deepEqual(shardGate({ status: 'running', paused: true }), { kind: 'pause' });
  assert.deepEqual(shardGate({ status: 'rolling-back', paused: true }), { kind: 'go' }, 'its restore stops it, not the pause');
  assert.deepEqual(shardGate({ status: 'failed', paused: false }), { kind: 'stop', why: 'the run has ended (failed)' });
  assert.deepEqual(shardGate({ status: undefined, paused: false }), { kind: 'go' }, 'a shard of a run the store does not know (tests) goes on');
});
