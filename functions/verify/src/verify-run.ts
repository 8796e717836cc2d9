/**
 * verify's handlers: fan-in of shard outcomes and restores, the checks, and the run's ending (complete,
 * contract, rollback or freeze).
 */
import type { DeepReadonly, EventData, RunPlan, VerificationCheck } from '@upshift/events';
import { finishRun, UpshiftError, type HandlerContext } from '@upshift/runtime';
import type { ClusterRegistry } from '@upshift/runtime/kubernetes.ts';
import { loadPlan } from '@upshift/runtime/store/plans.ts';
import type { Catalog } from '@upshift/migrations';
import { allFinal, decideVerdict, type CheckResult } from './core/verdict.ts';
import { claimOnce, fanInOf, finishOnce, lockRun, onceDetail, recordFinal, shardOutcomes } from './adapters/fanin.ts';
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

/** `shard.completed` / `shard.failed`: records the shard once; the last one triggers the verification. */
export async function shardFinal(ctx: Ctx, data: Data<'shard.completed'> | Data<'shard.failed'>, deps: VerifyDeps): Promise<void> {
  const run = await lockRun(ctx.tx, data.runId);
  if (!run) throw new UpshiftError('CONTRACT_VIOLATION', `run ${data.runId} is unknown`);
  const failed = 'reason' in data;
  await recordFinal(ctx.tx, data.runId, 'fanin', data.shardId, {
    status: failed ? 'failed' : 'completed', rows: data.rowsMigrated, migration: data.migration, ...(failed ? { reason: data.reason } : {}),
  });
  const fanIn = await fanInOf(ctx.tx, data.runId, 'fanin');
  ctx.log.info({ shard: data.shardId, ...fanIn }, `shard ${data.shardId} ${failed ? 'failed' : 'completed'}: ${fanIn.final}/${fanIn.total} final`);
  if (allFinal(fanIn)) await verifyOnce(ctx, data.runId, run, deps);
}

/** `verify.requested`: a run without shards to wait for. */
export async function verifyRequested(ctx: Ctx, data: Data<'verify.requested'>, deps: VerifyDeps): Promise<void> {
  const run = await lockRun(ctx.tx, data.runId);
  if (!run) throw new UpshiftError('CONTRACT_VIOLATION', `run ${data.runId} is unknown`);
  await verifyOnce(ctx, data.runId, run, deps);
}

async function verifyOnce(ctx: Ctx, runId: string, run: NonNullable<Awaited<ReturnType<typeof lockRun>>>, deps: VerifyDeps): Promise<void> {
  if (!(await claimOnce(ctx.tx, runId, 'verify'))) return;
  const plan = await requirePlan(ctx, runId);
  const checks = await runChecks(plan, requestedChecks(run.request.policy), deps);
  const outcomes = await shardOutcomes(ctx.tx, runId);
  await finishOnce(ctx.tx, runId, 'verify');
  ctx.emit('verify.results', { runId, passed: outcomes.failed.length === 0 && checks.every((c) => c.passed), checks });
  const verdict = decideVerdict({ failedShards: outcomes.failed, checks, failurePolicy: plan.strategy.failurePolicy, contract: plan.strategy.contract });
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
  await recordFinal(ctx.tx, data.runId, 'restored', data.shardId, { status: data.outcome, rows: data.rowsRestored, migration: data.migration, ...(data.reason ? { reason: data.reason } : {}) });
  const fanIn = await fanInOf(ctx.tx, data.runId, 'restored');
  if (!allFinal(fanIn) || !(await claimOnce(ctx.tx, data.runId, 'revert'))) return;
  const why = (await onceDetail<{ stage: 'migrate' | 'verify'; reason: string }>(ctx.tx, data.runId, 'rollback')) ?? { stage: 'migrate', reason: 'rollback requested' };
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
