/**
 * The store throttle of one shard invocation, set up from its run's policy (`strategy.throttle`), the
 * process's signal reader of the migration's store and the store's shared budget in the control store;
 * and the adaptive batch size's target taken from the same limits.
 */
import { defaultBatchSizeLimits, type BatchSizeLimits } from '@upshift/migrations';
import { StoreBatchSlots } from './adapters/store-batch-slots.ts';
import { StoreBudget } from './adapters/store-budget.ts';
import type { MigrateContext, MigrateDeps } from './context.ts';
import type { ThrottleState } from './core/throttle.ts';
import { StoreThrottle } from './store-throttle.ts';

/** The throttle of a shard of `migration` in run `runId`, until `until` (the invocation's budget). */
export async function shardStoreThrottle(
  ctx: MigrateContext, deps: MigrateDeps,
  shard: { runId: string; shardId: string; migration: string; checksum: string | undefined; signal: AbortSignal; until: number },
  onHeld: (state: ThrottleState) => Promise<void>,
): Promise<{ throttle: StoreThrottle; batchLimits: BatchSizeLimits }> {
  const limits = (await deps.planned.of(ctx.store, shard.runId)).throttle;
  const reader = deps.engines.signals(shard.migration, shard.checksum);
  const throttle = new StoreThrottle({
    reader, budget: new StoreBudget(ctx.store, reader.storeKey), slots: new StoreBatchSlots(ctx.store, reader.storeKey), limits, signal: shard.signal, until: shard.until, onHeld,
    onChange: (state) => ctx.log.info({ shardId: shard.shardId, throttle: state.state, why: state.reason, unavailable: state.unavailable }, 'store throttle changed'),
  });
  return { throttle, batchLimits: { ...defaultBatchSizeLimits, targetMs: limits.targetBatchMs } };
}
