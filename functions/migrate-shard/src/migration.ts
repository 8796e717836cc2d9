/**
 * The run-level migration events: expand DDL before rollout, the fan-out of `migration.requested` into
 * one `shard.requested` per shard, and the contract DDL after a successful verify.
 */
import { shardIdFor } from '@upshift/events';
import type { DeepReadonly, EventData, PlannedMigration } from '@upshift/events';
import { loadPlan, lockRun, readRunFacts, requirePlan, setRunStatus, type Decision } from '@upshift/runtime';
import type { KeyRange } from '@upshift/migrations';
import { plannedShard } from './core/shard-state.ts';
import type { ShardState } from './core/shard-state.ts';
import { plannedChecksums, retryOrMessage } from './adapters/engines.ts';
import { recordShards, shardsOfRun } from './adapters/steps.ts';
import type { MigrateContext, MigrateDeps } from './context.ts';

type Data<N extends 'migration.expand.requested' | 'migration.requested' | 'migration.contract.requested'> = DeepReadonly<EventData<N>>;

/** `migration.expand.requested`: the additive DDL of each migration (idempotent) and its backup claimed for the run, then `migration.expand.done`. */
export async function expand(ctx: MigrateContext, data: Data<'migration.expand.requested'>, deps: MigrateDeps): Promise<void> {
  const planned = await plannedChecksums(ctx.store, data.runId);
  for (const ref of data.migrations) {
    try {
      await deps.engines.engine(ref, planned.get(ref)).expand(data.runId);
    } catch (error) {
      return stopRun(ctx, data.runId, 'expand', retryOrMessage(error, `expand of ${ref}`));
    }
  }
  await ctx.decide(async (d) => void d.emit('migration.expand.done', { runId: data.runId, migrations: [...data.migrations] }));
}

/** `migration.requested`: split each key space, record one step per shard and emit one `shard.requested` each. */
export async function fanOut(ctx: MigrateContext, data: Data<'migration.requested'>, deps: MigrateDeps): Promise<void> {
  const recorded = await shardsOfRun(ctx.store, data.runId);
  const checksums = await plannedChecksums(ctx.store, data.runId);
  const planned: Array<{ ref: string; shards: Array<{ shardId: string; state: ShardState }> }> = [];
  for (const migration of data.migrations) {
    const mine = recorded.filter((shard) => shard.migration === migration.ref && shard.state);
    const shards = mine.length > 0
      ? mine.map((shard) => ({ shardId: shard.shardId, state: shard.state as ShardState }))
      : await splitMigration(ctx, data.runId, migration, checksums.get(migration.ref), deps);
    planned.push({ ref: migration.ref, shards });
  }
  await ctx.decide(async (d) => {
    // A run that stopped going forward (its rollback started) gets no new shards.
    if ((await lockRun(d.tx, data.runId))?.status !== 'running') return;
    for (const { ref, shards } of planned) {
      await recordShards(d.tx, data.runId, shards);
      for (const { shardId, state } of shards) emitShard(d, data.runId, ref, shardId, state);
    }
  });
}

/** One planned shard's request, or its failure when the store refused to split. */
function emitShard(d: Decision, runId: string, ref: string, shardId: string, state: ShardState): void {
  if (state.failure) {
    d.emit('shard.failed', { runId, shardId, migration: ref, reason: state.failure.error, rowsMigrated: 0 }, { key: shardId });
    return;
  }
  d.emit('shard.requested', {
    runId, shardId, migration: ref, index: state.index, shards: state.shards, range: state.range, batchSize: state.batchSize, backup: state.backup,
  }, { key: shardId });
}

/**
 * The shards of one migration: ranges from the engine (balanced by sampled quantiles; fewer than planned
 * for a tiny table). A store that refuses for good, or a catalog entry that is no longer the planned one
 * (`checksum`), becomes one failed shard, so verify's fan-in sees it.
 */
async function splitMigration(
  ctx: MigrateContext, runId: string, planned: DeepReadonly<PlannedMigration>, checksum: string | undefined, deps: MigrateDeps,
): Promise<Array<{ shardId: string; state: ShardState }>> {
  let ranges: KeyRange[];
  let estimate = 0;
  try {
    const engine = deps.engines.engine(planned.ref, checksum);
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
  const planned = await plannedChecksums(ctx.store, data.runId);
  for (const ref of data.migrations) {
    try {
      const engine = deps.engines.engine(ref, planned.get(ref));
      await engine.contract();
      await engine.dropBackups();
    } catch (error) {
      return stopRun(ctx, data.runId, 'contract', retryOrMessage(error, `contract of ${ref}`));
    }
  }
  const plan = await requirePlan(ctx.store, data.runId);
  const shards = await shardsOfRun(ctx.store, data.runId);
  const createdAt = (await readRunFacts(ctx.store, data.runId))?.createdAt.getTime() ?? Date.now();
  await ctx.decide(async (d) => {
    if (!(await setRunStatus(d.tx, data.runId, 'completed'))) return;
    d.emit('upgrade.completed', {
      runId: data.runId, policyName: plan.policyName, contracted: true, durationMs: Math.max(0, Date.now() - createdAt),
      services: plan.waves.flatMap((wave) => wave.targets).map((t) => ({ service: t.service, cluster: t.cluster, image: t.image })),
      migrations: plan.migrations.map((m) => {
        const own = shards.filter((shard) => shard.migration === m.ref);
        return { ref: m.ref, shards: own.length, rowsMigrated: own.reduce((sum, shard) => sum + (shard.state?.checkpoint?.changed ?? 0), 0) };
      }),
    });
  });
}

/** A DDL phase failed for good: the run stops where it is (nothing to restore yet, or data already verified). */
async function stopRun(ctx: MigrateContext, runId: string, stage: 'expand' | 'contract', reason: string): Promise<void> {
  const plan = await loadPlan(ctx.store, runId);
  ctx.log.warn({ stage, reason }, `${stage} failed: the run stops`);
  await ctx.decide(async (d) => {
    if (!(await setRunStatus(d.tx, runId, 'failed'))) return;
    d.emit('upgrade.failed', { runId, stage, reason: reason.slice(0, 2000), failurePolicy: plan?.strategy.failurePolicy ?? 'freeze', frozen: true });
  });
}
