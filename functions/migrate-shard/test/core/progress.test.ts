import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialCheckpoint } from '@upshift/migrations';
import { migrateProgress } from '../../src/core/progress.ts';
import { shardsToRestore } from '../../src/core/restore.ts';
import { plannedShard } from '../../src/core/shard-state.ts';
import type { ShardState } from '../../src/core/shard-state.ts';

function shard(scanned: number, changed: number, estimatedRows = 100): ShardState {
  const state = plannedShard({ migration: 'm@1', index: 0, shards: 2, range: { start: null, end: null }, batchSize: 10, backup: true, estimatedRows });
  return { ...state, checkpoint: { ...initialCheckpoint(10), scanned, changed } };
}

test('run progress counts finished shards whole and running ones by their scanned share', () => {
  const cases = [
    { name: 'nothing yet', shards: [], expect: { percent: 100, shardsDone: 0, shardsTotal: 0, rowsMigrated: 0 } },
    { name: 'one of two done, other half way', shards: [{ status: 'completed', state: shard(100, 90) }, { status: 'running', state: shard(50, 50) }], expect: { percent: 75, shardsDone: 1, shardsTotal: 2, rowsMigrated: 140 } },
    { name: 'estimate too low never shows 100 before the end', shards: [{ status: 'running', state: shard(500, 500) }], expect: { percent: 99, shardsDone: 0, shardsTotal: 1, rowsMigrated: 500 } },
    { name: 'failed shards are final', shards: [{ status: 'failed', state: shard(3, 3) }, { status: 'pending', state: null }], expect: { percent: 50, shardsDone: 1, shardsTotal: 2, rowsMigrated: 3 } },
  ];
  for (const c of cases) assert.deepEqual(migrateProgress(c.shards), c.expect, c.name);
});

test('a rollback restores every shard that started, never those that did not', () => {
  const steps = ['pending', 'running', 'completed', 'failed', 'cancelled', 'restoring', 'restored'].map((status, index) => ({ shardId: `r:m@1:${index}`, migration: 'm@1', status }));
  assert.deepEqual(shardsToRestore(steps).map((s) => s.status), ['running', 'completed', 'failed', 'restoring', 'restored']);
  const ordered = shardsToRestore([{ shardId: 'r:m@1:10', migration: 'm@1', status: 'completed' }, { shardId: 'r:m@1:9', migration: 'm@1', status: 'completed' }]);
  assert.deepEqual(ordered.map((s) => s.shardId), ['r:m@1:9', 'r:m@1:10']);
});
