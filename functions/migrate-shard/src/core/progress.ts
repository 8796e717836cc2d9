/** A run's progress over its shards (pure): what `run.progress` says while shards migrate. */
import type { ShardState } from './shard-state.ts';

/** One shard as stored, for progress. */
export interface ShardSeen {
  status: string;
  state: ShardState | null;
}

/** The numbers of a `run.progress` of the migrate stage. */
export interface MigrateProgress {
  percent: number;
  shardsDone: number;
  shardsTotal: number;
  rowsMigrated: number;
}

/**
 * Percent counts a finished shard as 1 and a running one as its scanned share of its estimate (capped
 * below 1, estimates are estimates); rows are the rows changed so far.
 */
export function migrateProgress(shards: ReadonlyArray<ShardSeen>): MigrateProgress {
  let done = 0;
  let fraction = 0;
  let rows = 0;
  for (const shard of shards) {
    rows += shard.state?.checkpoint?.changed ?? 0;
    if (shard.status === 'completed' || shard.status === 'failed') {
      done += 1;
      fraction += 1;
      continue;
    }
    const scanned = shard.state?.checkpoint?.scanned ?? 0;
    const estimate = shard.state?.estimatedRows ?? 0;
    if (estimate > 0) fraction += Math.min(0.99, scanned / estimate);
  }
  const percent = shards.length === 0 ? 100 : Math.round((1000 * fraction) / shards.length) / 10;
  return { percent: Math.min(100, percent), shardsDone: done, shardsTotal: shards.length, rowsMigrated: rows };
}
