/** A shard's checkpoint and how a committed batch advances it (pure). */
import type { BatchResult } from '../engine.ts';

/** Where a shard is: persisted after every committed batch, read back to resume. */
export interface ShardCheckpoint {
  lastKey: string | null;
  /** Inclusive upper bound frozen at the first batch of an open-ended shard (`null`: none needed or empty). */
  ceiling: string | null;
  /** Whether `ceiling` was already resolved (it may legitimately be null). */
  ceilingResolved: boolean;
  scanned: number;
  changed: number;
  batches: number;
  batchSize: number;
  /** Times the database pushed back (lock/statement timeout) and the shard slowed down. */
  throttles: number;
  done: boolean;
}

/** The checkpoint of a shard that has not started. */
export function initialCheckpoint(batchSize: number): ShardCheckpoint {
  return { lastKey: null, ceiling: null, ceilingResolved: false, scanned: 0, changed: 0, batches: 0, batchSize, throttles: 0, done: false };
}

/** The checkpoint after a committed batch, with the batch size to use next. */
export function advanceCheckpoint(checkpoint: ShardCheckpoint, batch: BatchResult, nextBatchSize: number): ShardCheckpoint {
  return {
    ...checkpoint,
    lastKey: batch.lastKey ?? checkpoint.lastKey,
    scanned: checkpoint.scanned + batch.scanned,
    changed: checkpoint.changed + batch.changed,
    batches: checkpoint.batches + 1,
    batchSize: nextBatchSize,
    done: batch.done,
  };
}
