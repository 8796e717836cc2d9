/**
 * Rollback of a run's data: `rollback.requested` cancels shards that never started and fans out one
 * `shard.restore.requested` per shard that did; `shard.restore.requested` takes the shard's lease
 * (so no batch of it runs meanwhile), puts its backed-up rows back — page by page through the same
 * store throttle as the backfill's batches — and answers `shard.restore.done`.
 */
import type { DeepReadonly, EventData } from '@upshift/events';
import type { RestoreResult } from '@upshift/migrations';
import { acquireLease, releaseLease, saveCheckpoint, startHeartbeat, UpshiftError } from '@upshift/runtime';
import { shardsToRestore } from './core/restore.ts';
import { retryOrMessage } from './adapters/engines.ts';
import { cancelPendingShards, markRestoring, readShard, shardStep, shardsOfRun } from './adapters/steps.ts';
import type { MigrateContext, MigrateDeps } from './context.ts';
import { shardLeaseName } from './shard.ts';
import { pagesSizedToTarget } from './restore-pages.ts';
import { shardStoreThrottle } from './shard-throttle.ts';

/** `rollback.requested`: restore every started shard; shards that never ran are answered as restored at once. */
export async function rollback(ctx: MigrateContext, data: DeepReadonly<EventData<'rollback.requested'>>): Promise<void> {
  await ctx.decide(async (d) => {
    await cancelPendingShards(d.tx, data.runId);
    const shards = await shardsOfRun(d.tx, data.runId);
    const started = shardsToRestore(shards);
    const reason = `rollback after ${data.stage}: ${data.reason}`.slice(0, 2000);
    for (const shard of started) {
      d.emit('shard.restore.requested', { runId: data.runId, shardId: shard.shardId, migration: shard.migration, reason }, { key: shard.shardId });
    }
    for (const shard of shards.filter((s) => !started.includes(s))) {
      d.emit('shard.restore.done', { runId: data.runId, shardId: shard.shardId, migration: shard.migration, outcome: 'restored', rowsRestored: 0, reason: 'never started: nothing to restore' }, { key: shard.shardId });
    }
    ctx.log.warn({ restore: started.length, untouched: shards.length - started.length }, 'rollback: restoring shards');
  });
}

/**
 * `shard.restore.requested`: stop the shard's worker, take its lease (heartbeated while the engine works),
 * put back what the migration changed, each page sized to the target batch time (`restore-pages.ts`)
 * and run through the store throttle (held while the store is over a limit, paced by the store's shared
 * budget and batch slots; a hold past the invocation's budget is THROTTLED and the delivery comes back). The engine records its progress in the target
 * store with every page, so a redelivery after a crash resumes where it stopped and reports the same totals.
 */
export async function restoreShard(ctx: MigrateContext, data: DeepReadonly<EventData<'shard.restore.requested'>>, deps: MigrateDeps): Promise<void> {
  const startedAt = Date.now();
  const step = shardStep(data.runId, data.shardId);
  const stored = await readShard(ctx.store, step);
  if (!stored.state) throw new UpshiftError('CONTRACT_VIOLATION', `shard ${data.shardId} was never planned by migrate-shard`);
  const state = stored.state;
  const planned = (await deps.planned.of(ctx.store, data.runId)).checksums.get(data.migration);
  await markRestoring(ctx.store, step);
  const ttlMs = ctx.config.UPSHIFT_SHARD_LEASE_TTL_MS;
  const lease = await acquireLease(ctx.store, shardLeaseName(data.shardId), deps.holder, ttlMs);
  // A lost lease needs no stop here: every restore write is compare-and-set and idempotent, and the
  // fenced checkpoint below refuses this worker's result, so the delivery is retried and resumes.
  const heartbeat = startHeartbeat(ctx.store, lease, { ttlMs, onLost: () => undefined });
  let result: RestoreResult;
  try {
    const { throttle, batchLimits } = await shardStoreThrottle(ctx, deps, {
      runId: data.runId, shardId: data.shardId, migration: data.migration, checksum: planned, signal: new AbortController().signal, until: startedAt + ctx.config.UPSHIFT_SHARD_BUDGET_MS,
    }, async (held) => { ctx.log.info({ shardId: data.shardId, throttle: held.state, why: held.reason }, 'restore held by the store throttle'); });
    result = await deps.engines.engine(data.migration, planned).restoreShard(state.range, { runId: data.runId, shardId: data.shardId }, pagesSizedToTarget(throttle.aroundPage, batchLimits));
  } catch (error) {
    await heartbeat.stop();
    await releaseLease(ctx.store, lease).catch(() => undefined);
    const failure = retryOrMessage(error, `restore of shard ${data.shardId}`).slice(0, 2000);
    await ctx.decide(async (d) => void d.emit('shard.restore.done', { runId: data.runId, shardId: data.shardId, migration: data.migration, outcome: 'failed', rowsRestored: 0, reason: failure }, { key: data.shardId }));
    return;
  }
  await heartbeat.stop();
  const { restored, ...report } = result;
  if (report.conflicts > 0 || report.created > 0) ctx.log.warn({ shardId: data.shardId, conflicts: report.conflicts, created: report.created }, 'restore: application writes kept or reported');
  await ctx.decide(async (d) => {
    await saveCheckpoint(d.tx, step, { status: 'restored', checkpoint: { ...state, restoredRows: restored, restore: result } }, lease);
    await releaseLease(d.tx, lease);
    d.emit('shard.restore.done', { runId: data.runId, shardId: data.shardId, migration: data.migration, outcome: 'restored', rowsRestored: restored, ...report }, { key: data.shardId });
  });
}
