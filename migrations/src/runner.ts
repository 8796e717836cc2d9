/**
 * The checkpointed shard loop: run batches until the shard is done, hand every committed checkpoint
 * to `onBatch` (migrate-shard persists it and heartbeats its lease there), resume from any checkpoint.
 * Storage of checkpoints and leases is the caller's; this loop only decides and calls the engine.
 */
import { defaultBatchSizeLimits, nextBatchSize, rememberBatch, throttleDelayMs, throttledBatchSize } from './core/batch-size.ts';
import type { BatchObservation, BatchSizeLimits } from './core/batch-size.ts';
import { advanceCheckpoint } from './core/checkpoint.ts';
import type { ShardCheckpoint } from './core/checkpoint.ts';
import type { KeyRange } from './core/shards.ts';
import type { BatchResult, MigrationEngine } from './engine.ts';
import { isMigrationError } from './errors.ts';

/** The shard to run. */
export interface ShardSpec {
  range: KeyRange;
  backup: boolean;
}

/** Inputs of `runShard`. */
export interface RunShardOptions {
  engine: MigrationEngine;
  shard: ShardSpec;
  /** Where to start: `initialCheckpoint(batchSize)` or the last persisted one. */
  checkpoint: ShardCheckpoint;
  /** Called after every commit with the new checkpoint; persist it before returning (a throw stops the loop). */
  onBatch: (checkpoint: ShardCheckpoint, batch: BatchResult) => Promise<void>;
  limits?: BatchSizeLimits;
  /** Push-backs in a row before giving up (the error is rethrown; the checkpoint stays valid). */
  maxThrottlesInARow?: number;
  /** Stops between batches (redeploy, lost lease); the returned checkpoint is not done. */
  signal?: AbortSignal;
}

/** Runs a shard from `checkpoint` to its end (or until aborted) and returns the final checkpoint. */
export async function runShard(options: RunShardOptions): Promise<ShardCheckpoint> {
  const { engine, shard, onBatch, signal } = options;
  const limits = options.limits ?? defaultBatchSizeLimits;
  let checkpoint = await resolveCeiling(engine, shard.range, options.checkpoint);
  let throttlesInARow = 0;
  let recent: BatchObservation[] = [];
  while (!checkpoint.done && !signal?.aborted) {
    let batch: BatchResult;
    try {
      batch = await engine.runBatch({
        range: shard.range, after: checkpoint.lastKey, ceiling: checkpoint.ceiling, batchSize: checkpoint.batchSize, backup: shard.backup,
      });
    } catch (error) {
      if (!isMigrationError(error, 'THROTTLED') || throttlesInARow >= (options.maxThrottlesInARow ?? 8)) throw error;
      throttlesInARow += 1;
      checkpoint = { ...checkpoint, batchSize: throttledBatchSize(checkpoint.batchSize, limits), throttles: checkpoint.throttles + 1 };
      await delay(throttleDelayMs(throttlesInARow), signal);
      continue;
    }
    throttlesInARow = 0;
    recent = rememberBatch(recent, { batchSize: checkpoint.batchSize, durationMs: batch.durationMs, scanned: batch.scanned });
    checkpoint = advanceCheckpoint(checkpoint, batch, nextBatchSize(recent, limits));
    await onBatch(checkpoint, batch);
  }
  return checkpoint;
}

/** Freezes the upper bound of an open-ended shard once (pgroll#583: inserts must not keep a backfill going). */
async function resolveCeiling(engine: MigrationEngine, range: KeyRange, checkpoint: ShardCheckpoint): Promise<ShardCheckpoint> {
  if (checkpoint.ceilingResolved || range.end !== null) return { ...checkpoint, ceilingResolved: true };
  const ceiling = await engine.maxKey(range);
  if (ceiling === null) return { ...checkpoint, ceiling: null, ceilingResolved: true, done: checkpoint.lastKey === null ? true : checkpoint.done };
  return { ...checkpoint, ceiling, ceilingResolved: true };
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
