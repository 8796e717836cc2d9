/**
 * verify's handlers: the fan-in of shard outcomes (per stage: migrations start after different waves)
 * and of restores, the next wave after a migration stage, the checks, and the run's ending (complete,
 * contract, or the failure policy). The checks run outside any transaction; each handler decides once.
 */
import { waveRequest, type DeepReadonly, type EventData, type RunPlan, type VerificationCheck } from '@upshift/events';
import {
  afterRestores, afterShards, allFinal, applyFailurePolicy, claimDetail, claimOnce, fanInByMigration, fanInOf, finishOnce, isClaimed, lockRun,
  readRunFacts, recordFinal, requirePlan, setRunStatus, shardOutcomes, UpshiftError,
  type Decision, type HandlerContext, type RollbackCause, type RunState,
} from '@upshift/runtime';
import type { ClusterRegistry } from '@upshift/workloads';
import type { Catalog } from '@upshift/migrations';
import { decideVerdict, type CheckResult, type Verdict } from './core/verdict.ts';
import { invariants, noOldVersion, workloadsAvailable } from './adapters/checks.ts';
import { planShape } from './adapters/plan-shape.ts';
import type { VerifyConfig } from './config.ts';

/** What verify needs besides the event. */
export interface VerifyDeps {
  clusters: ClusterRegistry;
  catalog: Catalog;
  env: Readonly<Record<string, string | undefined>>;
}

type Ctx = HandlerContext<VerifyConfig>;
type Data<N extends Parameters<Decision['emit']>[0]> = DeepReadonly<EventData<N>>;
type Outcomes = Awaited<ReturnType<typeof shardOutcomes>>;

/** The run, locked for this decision, or a contract violation naming it. */
async function lockKnownRun(d: Decision, runId: string): Promise<RunState> {
  const run = await lockRun(d.tx, runId);
  if (!run) throw new UpshiftError('CONTRACT_VIOLATION', `run ${runId} is unknown`);
  return run;
}

/**
 * `shard.completed` / `shard.failed`: records the shard once, then the lifecycle decides from the
 * stage's fan-in (`afterShards`): wait, the next wave, the failure policy, or — after the last wave —
 * the verification, handed to a `verify.requested` so the checks never run inside this transaction.
 */
export async function shardFinal(ctx: Ctx, data: Data<'shard.completed'> | Data<'shard.failed'>): Promise<void> {
  const failed = 'reason' in data;
  await ctx.decide(async (d) => {
    const run = await lockKnownRun(d, data.runId);
    const recorded = await recordFinal(d.tx, data.runId, 'fanin', data.shardId, {
      status: failed ? 'failed' : 'completed', rows: data.rowsMigrated, migration: data.migration, ...(failed ? { reason: data.reason } : {}),
    });
    // Already recorded (another event about the same shard): the decision it led to was taken then.
    // A run no longer going forward (rolling back, ended) only keeps the record.
    if (!recorded || run.status !== 'running') return;
    // Per shard outcome: the plan's shape (read once per run) and the tallied fan-in, never every shard.
    const shape = await planShape(d.tx, data.runId);
    const seen = await fanInByMigration(d.tx, data.runId, 'fanin');
    const step = afterShards(shape.lastWave, shape.migrations.map((m) => ({ ref: m.ref, afterWave: m.afterWave, ...(seen.get(m.ref) ?? { total: 0, final: 0, failed: 0 }) })));
    ctx.log.info({ shard: data.shardId, step: step.kind, ...step.fanIn }, `shard ${data.shardId} ${failed ? 'failed' : 'completed'}: ${step.fanIn.final}/${step.fanIn.total} final`);
    if (step.kind === 'next-wave') await resumeRollout(d, await requirePlan(d.tx, data.runId), step.wave);
    else if (step.kind === 'fail') await failStage(d, await requirePlan(d.tx, data.runId), run);
    else if (step.kind === 'verify') d.emit('verify.requested', { runId: data.runId });
  });
}

/**
 * `verify.requested` (the last wave done without shards to wait for, or every shard final): runs the
 * checks, then claims the verdict once and ends the run as it says.
 */
export async function verifyRequested(ctx: Ctx, data: Data<'verify.requested'>, deps: VerifyDeps): Promise<void> {
  const { runId } = data;
  if (await isClaimed(ctx.store, runId, 'verify')) return;
  const run = await readRunFacts(ctx.store, runId);
  if (!run) throw new UpshiftError('CONTRACT_VIOLATION', `run ${runId} is unknown`);
  const plan = await requirePlan(ctx.store, runId);
  const checks = await runChecks(plan, requestedChecks(run.request.policy), deps);
  await ctx.decide(async (d) => {
    const locked = await lockKnownRun(d, runId);
    if (locked.status !== 'running' || !(await claimOnce(d.tx, runId, 'verify'))) return;
    const outcomes = await shardOutcomes(d.tx, runId);
    await finishOnce(d.tx, runId, 'verify');
    d.emit('verify.results', { runId, passed: outcomes.failed.length === 0 && checks.every((c) => c.passed), checks });
    const verdict = decideVerdict({ failedShards: outcomes.failed, checks, failurePolicy: plan.strategy.failurePolicy, contract: plan.strategy.contract });
    await conclude(d, plan, run, verdict, outcomes);
  });
}

/**
 * The migrations after an earlier wave are all migrated: rollout continues with the next wave, exactly
 * once — the claim is in the same transaction as the fan-in, so a redelivered or concurrent last
 * completion finds it taken.
 */
async function resumeRollout(d: Decision, plan: RunPlan, wave: number): Promise<void> {
  const request = waveRequest(plan, wave);
  if (!request || !(await claimOnce(d.tx, plan.runId, `wave-${wave}`))) return;
  await finishOnce(d.tx, plan.runId, `wave-${wave}`);
  d.emit('rollout.wave.requested', request);
}

/** A shard failed before the last wave: the failure policy now, once (the run's verdict claim), without checks. */
async function failStage(d: Decision, plan: RunPlan, run: RunState): Promise<void> {
  if (!(await claimOnce(d.tx, plan.runId, 'verify'))) return;
  const outcomes = await shardOutcomes(d.tx, plan.runId);
  await finishOnce(d.tx, plan.runId, 'verify');
  const verdict = decideVerdict({ failedShards: outcomes.failed, checks: [], failurePolicy: plan.strategy.failurePolicy, contract: plan.strategy.contract });
  await conclude(d, plan, run, verdict, outcomes);
}

/** Ends the run as the verdict says: completed (or contract first), or the failure policy. */
async function conclude(d: Decision, plan: RunPlan, run: RunState, verdict: Verdict, outcomes: Outcomes): Promise<void> {
  const { runId } = plan;
  if (verdict.kind !== 'complete') {
    return applyFailurePolicy(d, plan, { stage: verdict.stage, reason: verdict.reason, migrationsRun: plan.migrations.map((m) => m.ref) });
  }
  if (verdict.contract && plan.migrations.length > 0) {
    d.emit('migration.contract.requested', { runId, migrations: plan.migrations.map((m) => m.ref) });
    return;
  }
  if (!(await setRunStatus(d.tx, runId, 'completed'))) return;
  d.emit('upgrade.completed', {
    runId, policyName: plan.policyName, contracted: false, durationMs: Math.max(0, Date.now() - run.createdAt.getTime()),
    services: plan.waves.flatMap((w) => w.targets).map((t) => ({ service: t.service, cluster: t.cluster, image: t.image })),
    migrations: plan.migrations.map((m) => ({ ref: m.ref, shards: outcomes.rows.get(m.ref)?.shards ?? 0, rowsMigrated: outcomes.rows.get(m.ref)?.rows ?? 0 })),
  });
}

/** `shard.restore.done`: records the restore once; when every shard is restored, the next compensation (the images). */
export async function restoreDone(ctx: Ctx, data: Data<'shard.restore.done'>): Promise<void> {
  await ctx.decide(async (d) => {
    await lockKnownRun(d, data.runId);
    await recordFinal(d.tx, data.runId, 'restored', data.shardId, {
      status: data.outcome === 'failed' ? 'failed' : 'restored', rows: data.rowsRestored, migration: data.migration,
      conflicts: data.conflicts ?? 0, created: data.created ?? 0, ...(data.reason ? { reason: data.reason } : {}),
    });
    const fanIn = await fanInOf(d.tx, data.runId, 'restored');
    if (!allFinal(fanIn) || !(await claimOnce(d.tx, data.runId, 'restores-done'))) return;
    // The rollback's claim (verify's verdict, or rollout's failed wave after migrations ran) says why.
    const cause = (await claimDetail<RollbackCause>(d.tx, data.runId, 'rollback')) ?? { stage: 'migrate', reason: 'rollback requested' };
    const next = afterRestores(data.runId, cause, fanIn);
    if (next.kind === 'failed') {
      await setRunStatus(d.tx, data.runId, 'failed');
      d.emit('upgrade.failed', next.failed);
      return;
    }
    d.emit('image.revert.requested', next.revert);
  });
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
