import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextShardSamples, shardRate, shardRow, sortShardRows, type ShardStep } from '../../src/core/shards.ts';

const runId = '01a234b8-ee7f-7d90-85c9-a684e9085072';

/** A shard step as migrate-shard stores it (core/shard-state.ts). */
function step(index: number, status: string, scanned: number, extra: Record<string, unknown> = {}): ShardStep {
  return {
    key: `${runId}:orders-currency@1:${index}`, status, attempt: 1,
    checkpoint: {
      migration: 'orders-currency@1', index, shards: 4, range: { start: null, end: null }, batchSize: 500, backup: true, estimatedRows: 1000,
      checkpoint: { lastKey: String(scanned), ceiling: null, ceilingResolved: true, scanned, changed: scanned - 1, batches: scanned / 100, batchSize: 200, throttles: 2, done: false },
      hops: 1, elapsedMs: 10, ...extra,
    },
  };
}

const running = { paused: false, throttled: false };

test('a running shard shows rows done of its estimate, changed rows, the batch size in use, rows/s and ETA', () => {
  const samples = { [`${runId}:orders-currency@1:0`]: [[1000, 200], [3000, 600]] as const };
  const row = shardRow(step(0, 'running', 600), samples, running);
  assert.equal(row.migration, 'orders-currency@1');
  assert.equal(row.index, 0);
  assert.equal(row.scanned, 600);
  assert.equal(row.changed, 599);
  assert.equal(row.estimated, 1000);
  assert.equal(row.fraction, 0.6);
  assert.equal(row.batchSize, 200, 'the adaptive batch size of the checkpoint, not the planned one');
  assert.equal(row.backoffs, 2);
  assert.equal(row.rowsPerSecond, 200);
  assert.equal(row.etaMs, 2000);
  assert.equal(row.hold, undefined);
});

test('a paused run shows its running shards paused, at 0 rows/s and without an ETA; a throttled one keeps its ETA', () => {
  const samples = { [`${runId}:orders-currency@1:0`]: [[1000, 200], [3000, 600]] as const };
  const paused = shardRow(step(0, 'running', 600), samples, { paused: true, throttled: true });
  assert.deepEqual([paused.hold, paused.rowsPerSecond, paused.etaMs], ['paused', 0, null]);
  const throttled = shardRow(step(0, 'running', 600), samples, { paused: false, throttled: true });
  assert.deepEqual([throttled.hold, throttled.rowsPerSecond, throttled.etaMs], ['throttled', 200, 2000]);
  const done = shardRow(step(1, 'completed', 1000), samples, { paused: true, throttled: true });
  assert.deepEqual([done.hold, done.fraction, done.etaMs], [undefined, 1, null]);
});

test('a failed shard shows the database\'s words by key', () => {
  const row = shardRow(step(2, 'failed', 300, { failure: { error: 'null value in column "amount_minor"', key: '4242', keyKnown: true, lastKey: '4200' } }), {}, running);
  assert.deepEqual(row.error, { message: 'null value in column "amount_minor"', key: '4242' });
});

test('a step without migrate-shard\'s state still makes a row (nothing known is shown as 0 or none)', () => {
  const row = shardRow({ key: `${runId}:customers-profile@1:3`, status: 'pending', attempt: 0, checkpoint: null }, {}, running);
  assert.deepEqual([row.migration, row.index, row.scanned, row.estimated, row.batchSize, row.rowsPerSecond], ['customers-profile@1', 3, 0, 0, null, null]);
});

test('samples keep the last 10 s per shard; rates need at least 1 s of them', () => {
  let samples = nextShardSamples({}, [step(0, 'running', 100)], 1000);
  samples = nextShardSamples(samples, [step(0, 'running', 300)], 1500);
  assert.equal(shardRate(samples[`${runId}:orders-currency@1:0`]), null);
  samples = nextShardSamples(samples, [step(0, 'running', 500)], 3000);
  assert.equal(shardRate(samples[`${runId}:orders-currency@1:0`]), 200);
  samples = nextShardSamples(samples, [step(0, 'running', 500)], 12_500);
  assert.deepEqual(samples[`${runId}:orders-currency@1:0`]?.map(([at]) => at), [3000, 12_500]);
  assert.equal(shardRate(samples[`${runId}:orders-currency@1:0`]), 0, 'no progress: 0 rows/s');
});

test('rows sort by state, failed first, then by index', () => {
  const rows = sortShardRows([step(3, 'completed', 1), step(1, 'running', 1), step(2, 'failed', 1), step(0, 'running', 1), step(4, 'pending', 0)].map((s) => shardRow(s, {}, running)));
  assert.deepEqual(rows.map((r) => `${r.state}:${r.index}`), ['failed:2', 'running:0', 'running:1', 'pending:4', 'completed:3']);
});
