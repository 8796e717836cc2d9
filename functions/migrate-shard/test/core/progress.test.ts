import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialCheckpoint } from '@upshift/migrations';
import { countDelta, migrateProgress, shardCount } from '../../src/core/progress.ts';
import { shardsToRestore } from '../../src/core/restore.ts';
import { plannedShard } from '../../src/core/shard-state.ts';
import type { ShardState } from '../../src/core/shard-state.ts';

function shard(scanned: number, changed: number, estimatedRows = 100): ShardState {
  const state = plannedShard({ migration: 'm@1', index: 0, shards: 2, range: { start: null, end: null }, batchSize: 10, backup: true, estimatedRows });
  return { ...state, checkpoint: { ...initialCheckpoint(10), scanned, changed } };
}

test('a shard counts in its part: finished whole, running by its scanned share, rows changed', () => {
  const cases = [
    { name: 'planned', state: shard(0, 0), finished: false, expect: { done: 0, rows: 0, share: 0 } },
    { name: 'half way', state: shard(50, 40), finished: false, expect: { done: 0, rows: 40, share: 0.5 } },
    { name: 'estimate too low never counts a whole shard before the end', state: shard(500, 500), finished: false, expect: { done: 0, rows: 500, share: 0.99 } },
    { name: 'no estimate', state: shard(5, 5, 0), finished: false, expect: { done: 0, rows: 5, share: 0 } },
    { name: 'finished', state: shard(100, 90), finished: true, expect: { done: 1, rows: 90, share: 1 } },
  ];
  for (const c of cases) assert.deepEqual(shardCount(c.state, c.finished), c.expect, c.name);
});

test('a report adds only what changed since the shard last counted in', () => {
  assert.deepEqual(countDelta({ done: 0, rows: 40, share: 0.5 }, undefined), { done: 0, rows: 40, share: 0.5 });
  assert.deepEqual(countDelta({ done: 1, rows: 90, share: 1 }, { done: 0, rows: 40, share: 0.5 }), { done: 1, rows: 50, share: 0.5 });
  assert.deepEqual(countDelta({ done: 0, rows: 0, share: 0 }, { done: 1, rows: 90, share: 1 }), { done: -1, rows: -90, share: -1 }, 'a retried shard takes its finish back');
});

test('run progress from the tally: percent of shares, shards done, rows', () => {
  const cases = [
    { name: 'nothing planned yet', tally: { shards: 0, done: 0, rows: 0, share: 0 }, expect: { percent: 100, shardsDone: 0, shardsTotal: 0, rowsMigrated: 0 } },
    { name: 'one of two done, other half way', tally: { shards: 2, done: 1, rows: 140, share: 1.5 }, expect: { percent: 75, shardsDone: 1, shardsTotal: 2, rowsMigrated: 140 } },
    { name: '10,000 shards, a third in', tally: { shards: 10_000, done: 3333, rows: 6666, share: 3333.4 }, expect: { percent: 33.3, shardsDone: 3333, shardsTotal: 10_000, rowsMigrated: 6666 } },
  ];
  for (const c of cases) assert.deepEqual(migrateProgress(c.tally), c.expect, c.name);
});

test('a rollback restores every shard that started, never those that did not', () => {
  const steps = ['pending', 'running', 'completed', 'failed', 'cancelled', 'restoring', 'restored'].map((status, index) => ({ shardId: `r:m@1:${index}`, migration: 'm@1', status }));
  assert.deepEqual(shardsToRestore(steps).map((s) => s.status), ['running', 'completed', 'failed', 'restoring', 'restored']);
  const ordered = shardsToRestore([{ shardId: 'r:m@1:10', migration: 'm@1', status: 'completed' }, { shardId: 'r:m@1:9', migration: 'm@1', status: 'completed' }]);
  assert.deepEqual(ordered.map((s) => s.shardId), ['r:m@1:9', 'r:m@1:10']);
});
