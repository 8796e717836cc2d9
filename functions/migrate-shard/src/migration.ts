/**
 * The run-level migration events: expand DDL before rollout, the fan-out of `migration.requested` into
 * one `shard.requested` per shard, and the contract DDL after a successful verify.
 */
import { shardIdFor } from '@upshift/events';
import type { DeepReadonly, EventData, PlannedMigration } from '@upshift/events';
import { finishRun, UpshiftError } from '@upshift/runtime';
import { loadPlan } from '@upshift/runtime/store/plans.ts';
import type { KeyRange } from '@upshift/migrations';
import { plannedShard } from './core/shard-state.ts';
import type { ShardState } from './core/shard-state.ts';
import { retryOrMessage } from './adapters/engines.ts';
import { recordShards, shardsOfRun } from './adapters/steps.ts';
import type { MigrateContext, MigrateDeps } from './context.ts';

type Data<N extends 'migration.expand.requested' | 'migration.requested' | 'migration.contract.requested'> = DeepReadonly<EventData<N>>;

/** `migration.expand.requested`: the additive DDL of each migration (idempotent) and its backup claimed for the run, then `migration.expand.done`. */
export async function expand(ctx: MigrateContext, data: Data<'migration.expand.requested'>, deps: MigrateDeps): Promise<void> {
  for (const ref of data.migrations) {
    try {
      await deps.engines.engine(ref).expand(data.runId);
    } catch (error) {
      return stopRun(ctx, data.runId, 'expand', retryOrMessage(error, `expand of ${ref}`));
    }
  }
  ctx.emit('migration.expand.done', { runId: data.runId, migrations: [...data.migrations] });
}

/** `migration.requested`: split each key space, record one step per shard and emit one `shard.requested` each. */
export async function fanOut(ctx: MigrateContext, data: Data<'migration.requested'>, deps: MigrateDeps): Promise<void> {
  const recorded = await shardsOfRun(ctx.tx, data.runId);
  for (const planned of data.migrations) {
    const mine = recorded.filter((shard) => shard.migration === planned.ref && shard.state);
    const shards = mine.length > 0
      ? mine.map((shard) => ({ shardId: shard.shardId, state: shard.state as ShardState }))
      : await splitMigration(ctx, data.runId, planned, deps);
    await recordShards(ctx.tx, data.runId, shards);
    for (const { shardId, state } of shards) {
      if (state.failure) {
        ctx.emit('shard.failed', { runId: data.runId, shardId, migration: planned.ref, reason: state.failure.error, rowsMigrated: 0 }, { key: shardId });
        continue;
      }
      ctx.emit('shard.requested', {
        runId: data.runId, shardId, migration: planned.ref, index: state.index, shards: state.shards,
        range: state.range, batchSize: state.batchSize, backup: state.backup,
      }, { key: shardId });
    }
  }
}

/**
 * The shards of one migration: ranges from the engine (balanced by sampled quantiles; fewer than planned
 * for a tiny table). A store that refuses for good becomes one failed shard, so verify's fan-in sees it.
 */
async function splitMigration(ctx: MigrateContext, runId: string, planned: DeepReadonly<PlannedMigration>, deps: MigrateDeps): Promise<Array<{ shardId: string; state: ShardState }>> {
  let ranges: KeyRange[];
  let estimate = 0;
  try {
    const engine = deps.engines.engine(planned.ref);
    ranges = await engine.splitShards(planned.shards);
    estimate = await engine.estimateCount();
  } catch (error) {
    const reason = retryOrMessage(error, `splitting ${planned.ref}`);
    ctx.log.warn({ migration: planned.ref, reason }, 'migration cannot be split: one failed shard reported');
    const state = plannedShard({ migration: planned.ref, index: 0, shards: 1, range: { start: null, end: null }, batchSize: planned.batchSize, backup: planned.backup, estimatedRows: 0 });
    return [{ shardId: shardIdFor(runId, planned.ref, 0), state: { ...state, failure: { error: reason, key: null, keyKnown: false, lastKey: null } } }];
  }
  if (ranges.length === 0) ranges = [{ start: null, end: null }];
  const estimatedRows = Math.ceil(estimate / ranges.length);
  return ranges.map((range, index) => ({
    shardId: shardIdFor(runId, planned.ref, index),
    state: plannedShard({ migration: planned.ref, index, shards: ranges.length, range, batchSize: planned.batchSize, backup: planned.backup, estimatedRows }),
  }));
}

/**
 * `migration.contract.requested`: the destructive DDL (verify passed, the policy asked), then the
 * backups are dropped — after contract a restore could not put the old shape back anyway — then
 * `upgrade.completed`. Both steps are idempotent, so a redelivery repeats them harmlessly.
 */
export async function contract(ctx: MigrateContext, data: Data<'migration.contract.requested'>, deps: MigrateDeps): Promise<void> {
  for (const ref of data.migrations) {
    try {
      const engine = deps.engines.engine(ref);
      await engine.contract();
      await engine.dropBackups();
    } catch (error) {
      return stopRun(ctx, data.runId, 'contract', retryOrMessage(error, `contract of ${ref}`));
    }
  }
  const plan = await loadPlan(ctx.tx, data.runId);
  if (!plan) throw new UpshiftError('CONTRACT_VIOLATION', `run ${data.runId} has no plan`);
  const shards = await shardsOfRun(ctx.tx, data.runId);
  const { rows } = await ctx.tx.query<{ created_at: Date }>('SELECT created_at FROM upshift.runs WHERE id = $1', [data.runId]);
  await finishRun(ctx.tx, data.runId, 'completed');
  ctx.emit('upgrade.completed', {
    runId: data.runId, policyName: plan.policyName, contracted: true,
    durationMs: Math.max(0, Date.now() - (rows[0]?.created_at.getTime() ?? Date.now())),
    services: plan.waves.flatMap((wave) => wave.targets).map((t) => ({ service: t.service, cluster: t.cluster, image: t.image })),
    migrations: plan.migrations.map((m) => {
      const own = shards.filter((shard) => shard.migration === m.ref);
      return { ref: m.ref, shards: own.length, rowsMigrated: own.reduce((sum, shard) => sum + (shard.state?.checkpoint?.changed ?? 0), 0) };
    }),
  });
}

/** A DDL phase failed for good: the run stops where it is (nothing to restore yet, or data already verified). */
async function stopRun(ctx: MigrateContext, runId: string, stage: 'expand' | 'contract', reason: string): Promise<void> {
  const plan = await loadPlan(ctx.tx, runId);
  ctx.log.warn({ stage, reason }, `${stage} failed: the run stops`);
  await finishRun(ctx.tx, runId, 'failed');
  ctx.emit('upgrade.failed', { runId, stage, reason: reason.slice(0, 2000), failurePolicy: plan?.strategy.failurePolicy ?? 'freeze', frozen: true });
}
