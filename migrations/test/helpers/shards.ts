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
