/**
 * A run's progress over its shards (pure): what `run.progress` says while shards migrate. Each shard
 * counts its own part into a tally of the run (finished 1 or 0, rows changed, scanned share) and keeps
 * what it counted in its state, so a report adds only the difference and never reads the other shards.
 */
import type { ShardState } from './shard-state.ts';

/** One shard's part of the run's progress (or what it has counted in so far). */
export interface ShardCount {
  done: number;
  rows: number;
  share: number;
}

/** The numbers of a `run.progress` of the migrate stage. */
export interface MigrateProgress {
  percent: number;
  shardsDone: number;
  shardsTotal: number;
  rowsMigrated: number;
}

/**
 * A shard's part: a finished shard counts 1, a running one its scanned share of its estimate (capped
 * below 1, estimates are estimates); rows are the rows changed so far.
 */
export function shardCount(state: ShardState, finished: boolean): ShardCount {
  const rows = state.checkpoint?.changed ?? 0;
  if (finished) return { done: 1, rows, share: 1 };
  const scanned = state.checkpoint?.scanned ?? 0;
  const estimate = state.estimatedRows;
  return { done: 0, rows, share: estimate > 0 ? Math.min(0.99, scanned / estimate) : 0 };
}

/** What a report adds to the run's tally: the shard's part now less what it counted in before. */
export function countDelta(now: ShardCount, before: ShardCount | undefined): ShardCount {
  return { done: now.done - (before?.done ?? 0), rows: now.rows - (before?.rows ?? 0), share: now.share - (before?.share ?? 0) };
}

/** The progress numbers from the run's tally (shards planned, and finished, rows and share counted in). */
export function migrateProgress(tally: { shards: number; done: number; rows: number; share: number }): MigrateProgress {
  const percent = tally.shards === 0 ? 100 : Math.round((1000 * tally.share) / tally.shards) / 10;
  return { percent: Math.max(0, Math.min(100, percent)), shardsDone: tally.done, shardsTotal: tally.shards, rowsMigrated: tally.rows };
}
