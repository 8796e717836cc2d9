/**
 * verify's handlers: fan-in of shard outcomes (per stage: migrations start after different waves) and
 * restores, the next wave after an early migration, the checks, and the run's ending (complete, contract,
 * rollback or freeze).
 */
import { waveRequest, type DeepReadonly, type EventData, type RunPlan, type Stage, type VerificationCheck } from '@upshift/events';
import { claimOnce, finishOnce, finishRun, onceDetail, UpshiftError, type HandlerContext } from '@upshift/runtime';
import type { ClusterRegistry } from '@upshift/runtime/kubernetes.ts';
import { loadPlan } from '@upshift/runtime/store/plans.ts';
import type { Catalog } from '@upshift/migrations';
import { allFinal, decideVerdict, type CheckResult, type Verdict } from './core/verdict.ts';
import { decideFanIn } from './core/stage.ts';
import { fanInByMigration, fanInOf, lockRun, recordFinal, shardOutcomes } from './adapters/fanin.ts';
import { invariants, noOldVersion, workloadsAvailable } from './adapters/checks.ts';
import type { VerifyConfig } from './config.ts';

/** What verify needs besides the event. */
export interface VerifyDeps {
  clusters: ClusterRegistry;
  catalog: Catalog;
  env: Readonly<Record<string, string | undefined>>;
}

type Ctx = HandlerContext<VerifyConfig>;
type Data<N extends Parameters<Ctx['emit']>[0]> = DeepReadonly<EventData<N>>;

/**
 * `shard.completed` / `shard.failed`: records the shard once, then the fan-in of the stage decides (pure,
 * `decideFanIn`): wait, the next wave (migrations that start after an earlier wave are done), the failure
 * policy, or — after the last wave — the verification.
 */
export async function shardFinal(ctx: Ctx, data: Data<'shard.completed'> | Data<'shard.failed'>, deps: VerifyDeps): Promise<void> {
  const run = await lockRun(ctx.tx, data.runId);
  if (!run) throw new UpshiftError('CONTRACT_VIOLATION', `run ${data.runId} is unknown`);
  const failed = 'reason' in data;
  await recordFinal(ctx.tx, data.runId, 'fanin', data.shardId, {
    status: failed ? 'failed' : 'completed', rows: data.rowsMigrated, migration: data.migration, ...(failed ? { reason: data.reason } : {}),
  });
  const plan = await requirePlan(ctx, data.runId);
  const seen = await fanInByMigration(ctx.tx, data.runId, 'fanin');
  const step = decideFanIn(plan.waves.length - 1, plan.migrations.map((m) => ({ ref: m.ref, afterWave: m.afterWave, ...(seen.get(m.ref) ?? { total: 0, final: 0, failed: 0 }) })));
  ctx.log.info({ shard: data.shardId, step: step.kind, ...step.fanIn }, `shard ${data.shardId} ${failed ? 'failed' : 'completed'}: ${step.fanIn.final}/${step.fanIn.total} final`);
  if (step.kind === 'next-wave') await resumeRollout(ctx, plan, step.wave);
  else if (step.kind === 'fail') await failStage(ctx, plan, run);
  else if (step.kind === 'verify') await verifyOnce(ctx, data.runId, run, deps);
}

/** `verify.requested`: a run without shards to wait for after its last wave. */
export async function verifyRequested(ctx: Ctx, data: Data<'verify.requested'>, deps: VerifyDeps): Promise<void> {
  const run = await lockRun(ctx.tx, data.runId);
  if (!run) throw new UpshiftError('CONTRACT_VIOLATION', `run ${data.runId} is unknown`);
  await verifyOnce(ctx, data.runId, run, deps);
}

type RunRow = NonNullable<Awaited<ReturnType<typeof lockRun>>>;

/**
 * The migrations after an earlier wave are all migrated: rollout continues with the next wave, exactly
 * once — the claim is a `once` step in the same transaction as the fan-in, so a redelivered or concurrent
 * last completion finds it taken.
 */
async function resumeRollout(ctx: Ctx, plan: RunPlan, wave: number): Promise<void> {
  const request = waveRequest(plan, wave);
  if (!request || !(await claimOnce(ctx.tx, plan.runId, `wave-${wave}`))) return;
  await finishOnce(ctx.tx, plan.runId, `wave-${wave}`);
  ctx.emit('rollout.wave.requested', request);
}

/** A shard failed before the last wave: the failure policy now, once (the run's verdict claim), without checks. */
async function failStage(ctx: Ctx, plan: RunPlan, run: RunRow): Promise<void> {
  if (!(await claimOnce(ctx.tx, plan.runId, 'verify'))) return;
  const outcomes = await shardOutcomes(ctx.tx, plan.runId);
  await finishOnce(ctx.tx, plan.runId, 'verify');
  const verdict = decideVerdict({ failedShards: outcomes.failed, checks: [], failurePolicy: plan.strategy.failurePolicy, contract: plan.strategy.contract });
  await conclude(ctx, plan, run, verdict, outcomes);
}

async function verifyOnce(ctx: Ctx, runId: string, run: RunRow, deps: VerifyDeps): Promise<void> {
  if (!(await claimOnce(ctx.tx, runId, 'verify'))) return;
  const plan = await requirePlan(ctx, runId);
  const checks = await runChecks(plan, requestedChecks(run.request.policy), deps);
  const outcomes = await shardOutcomes(ctx.tx, runId);
  await finishOnce(ctx.tx, runId, 'verify');
  ctx.emit('verify.results', { runId, passed: outcomes.failed.length === 0 && checks.every((c) => c.passed), checks });
  const verdict = decideVerdict({ failedShards: outcomes.failed, checks, failurePolicy: plan.strategy.failurePolicy, contract: plan.strategy.contract });
  await conclude(ctx, plan, run, verdict, outcomes);
}

/** Ends the run as the verdict says: completed (or contract first), frozen, or rolling back. */
async function conclude(ctx: Ctx, plan: RunPlan, run: RunRow, verdict: Verdict, outcomes: Awaited<ReturnType<typeof shardOutcomes>>): Promise<void> {
  const { runId } = plan;
  if (verdict.kind === 'complete') {
    if (verdict.contract && plan.migrations.length > 0) {
      ctx.emit('migration.contract.requested', { runId, migrations: plan.migrations.map((m) => m.ref) });
      return;
    }
    await finishRun(ctx.tx, runId, 'completed');
    ctx.emit('upgrade.completed', {
      runId, policyName: plan.policyName, contracted: false, durationMs: Math.max(0, Date.now() - run.createdAt.getTime()),
      services: plan.waves.flatMap((w) => w.targets).map((t) => ({ service: t.service, cluster: t.cluster, image: t.image })),
      migrations: plan.migrations.map((m) => ({ ref: m.ref, shards: outcomes.rows.get(m.ref)?.shards ?? 0, rowsMigrated: outcomes.rows.get(m.ref)?.rows ?? 0 })),
    });
    return;
  }
  if (verdict.kind === 'freeze') {
    await finishRun(ctx.tx, runId, 'failed');
    ctx.emit('upgrade.failed', { runId, stage: verdict.stage, reason: `frozen as the policy asks; data and images left as they are: ${verdict.reason}`, failurePolicy: 'freeze', frozen: true });
    return;
  }
  await ctx.tx.query(`UPDATE upshift.runs SET status = 'rolling-back', updated_at = now() WHERE id = $1`, [runId]);
  await claimOnce(ctx.tx, runId, 'rollback', { stage: verdict.stage, reason: verdict.reason });
  if (plan.migrations.length > 0) ctx.emit('rollback.requested', { runId, stage: verdict.stage, reason: verdict.reason });
  else ctx.emit('image.revert.requested', { runId, stage: verdict.stage, reason: verdict.reason, restoredShards: 0 });
}

/** `shard.restore.done`: records the restore once; when every shard is restored, the images go back. */
export async function restoreDone(ctx: Ctx, data: Data<'shard.restore.done'>): Promise<void> {
  const run = await lockRun(ctx.tx, data.runId);
  if (!run) throw new UpshiftError('CONTRACT_VIOLATION', `run ${data.runId} is unknown`);
  await recordFinal(ctx.tx, data.runId, 'restored', data.shardId, {
    status: data.outcome, rows: data.rowsRestored, migration: data.migration, conflicts: data.conflicts ?? 0, created: data.created ?? 0, ...(data.reason ? { reason: data.reason } : {}),
  });
  const fanIn = await fanInOf(ctx.tx, data.runId, 'restored');
  if (!allFinal(fanIn) || !(await claimOnce(ctx.tx, data.runId, 'revert'))) return;
  // The rollback's claim (verify's verdict, or rollout's failed wave after migrations ran) says why.
  const why = (await onceDetail<{ stage: Stage; reason: string }>(ctx.tx, data.runId, 'rollback')) ?? { stage: 'migrate', reason: 'rollback requested' };
  if (fanIn.failed > 0) {
    await finishRun(ctx.tx, data.runId, 'failed');
    ctx.emit('upgrade.failed', { runId: data.runId, stage: 'rollback', reason: `${fanIn.failed} shard restore(s) failed; images left at their targets: ${why.reason}`.slice(0, 2000), failurePolicy: 'rollback', frozen: false });
    return;
  }
  ctx.emit('image.revert.requested', { runId: data.runId, stage: why.stage, reason: why.reason, restoredShards: fanIn.final });
}

async function requirePlan(ctx: Ctx, runId: string): Promise<RunPlan> {
  const plan = await loadPlan(ctx.tx, runId);
  if (!plan) throw new UpshiftError('CONTRACT_VIOLATION', `run ${runId} has no plan`);
  return plan;
}

const defaultChecks: VerificationCheck[] = [
  { name: 'workloads-available', kind: 'workloadsAvailable' },
  { name: 'no-old-version', kind: 'noOldVersion' },
  { name: 'invariants', kind: 'invariants' },
];

function requestedChecks(policy: unknown): VerificationCheck[] {
  const checks = (policy as { spec?: { verification?: { checks?: VerificationCheck[] } } } | undefined)?.spec?.verification?.checks;
  return checks && checks.length > 0 ? checks : defaultChecks;
}

async function runChecks(plan: RunPlan, checks: VerificationCheck[], deps: VerifyDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    if (check.kind === 'workloadsAvailable') results.push(await workloadsAvailable(check.name, plan, deps.clusters));
    else if (check.kind === 'noOldVersion') results.push(await noOldVersion(check.name, plan, deps.catalog, deps.env));
    else results.push(await invariants(check.name, plan, deps.catalog, deps.env));
  }
  return results;
}
