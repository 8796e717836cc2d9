/** Runs every shard of an engine to completion, a few at a time, like migrate-shard workers would. */
import { initialCheckpoint, runShard } from '../../src/index.ts';
import type { KeyRange, MigrationEngine, ShardCheckpoint } from '../../src/index.ts';
import type { BatchSizeLimits } from '../../src/core/batch-size.ts';

/** Migrates all `ranges` with `concurrency` shards in flight; returns each shard's final checkpoint. */
export async function migrateAllShards(engine: MigrationEngine, ranges: KeyRange[], options: { concurrency?: number; batchSize?: number; backup?: boolean; limits?: BatchSizeLimits } = {}): Promise<ShardCheckpoint[]> {
  const results: ShardCheckpoint[] = new Array<ShardCheckpoint>(ranges.length);
  let next = 0;
  const worker = async () => {
    while (next < ranges.length) {
      const index = next++;
      const range = ranges[index] as KeyRange;
      results[index] = await runShard({
        engine, shard: { range, backup: options.backup ?? true }, checkpoint: initialCheckpoint(options.batchSize ?? 1000), onBatch: async () => undefined,
        ...(options.limits ? { limits: options.limits } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return results;
}

/**
 * Migrates all `ranges` in small batches (at most 100 rows/documents, 2 shards in flight) so the backfill
 * lasts long enough to meet a concurrent writer often, then stops the writer; returns how long it took
 * and how many batches were retried smaller after meeting one of its writes.
 */
export async function migrateBesideWriter(engine: MigrationEngine, ranges: KeyRange[], writer: { stop: () => Promise<void> }): Promise<{ seconds: number; throttles: number }> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const started = performance.now();
  const limits = { targetMs: 200, min: 20, max: 100, maxGrowth: 2, maxShrink: 0.25 };
  const checkpoints = await migrateAllShards(engine, ranges, { concurrency: 2, batchSize: 100, limits }).finally(() => writer.stop());
  return { seconds: (performance.now() - started) / 1000, throttles: checkpoints.reduce((sum, checkpoint) => sum + checkpoint.throttles, 0) };
}
