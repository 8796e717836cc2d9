import { parsePolicy, type EventData, type FieldProblem } from '@upshift/events';
import { activeHolders, firstStage, runExists, savePlan, setRunStatus, startRun, type Decision, type HandlerContext } from '@upshift/runtime';
import type { ClusterRegistry } from '@upshift/workloads';
import { autoShardCount, type Catalog } from '@upshift/migrations';
import { buildPlan, runTargets, type RunPlan } from './core/plan.ts';
import type { WorkloadSeen } from './core/preflight.ts';
import { plannedEventProblem } from './core/planned-size.ts';
import { rejectionOf } from './core/rejection.ts';
import { namespaceProblems } from './core/namespaces.ts';
import { pinChecksums, type MigrationFacts } from './adapters/catalog.ts';
import { preflight } from './adapters/preflight.ts';
import type { PlanConfig } from './config.ts';

/** Every cluster, workload and migration observed before anything changes (read-only; also what `upshift validate --connect` runs). */
export { preflight };

/** What planning needs besides the event: cluster clients, the catalog, and the environment for store URLs. */
export interface PlanDeps {
  clusters: ClusterRegistry;
  catalog: { catalog?: Catalog; error?: string };
  env: Readonly<Record<string, string | undefined>>;
  /** Whose rights preflight checks (UPSHIFT_ROLLOUT_IDENTITY); undefined: plan's own credential. */
  rolloutIdentity?: string;
}

type RejectCode = EventData<'upgrade.rejected'>['code'];

/**
 * Handles `upgrade.requested`: validate, preflight (read-only, no transaction open), plan; then decide in
 * one transaction: claim the targets, persist, and emit `upgrade.planned` plus the first stage — or
 * `upgrade.rejected` with every problem and no change anywhere.
 */
export async function planRun(ctx: HandlerContext<PlanConfig>, request: EventData<'upgrade.requested'>, deps: PlanDeps): Promise<void> {
  const { runId } = request;
  if (await runExists(ctx.store, runId)) {
    ctx.log.info('run already planned: request ignored');
    return;
  }
  const parsed = parsePolicy(request.policy);
  if (!parsed.ok) return reject(ctx, runId, undefined, 'invalid-policy', 'the policy is invalid', [...parsed.problems]);
  const policy = parsed.policy;
  const outside = namespaceProblems(policy.spec.services, ctx.config.UPSHIFT_NAMESPACES);
  if (outside.length > 0) return reject(ctx, runId, policy.metadata.name, 'invalid-policy', 'the policy names namespaces upshift may not change', outside);
  const { workloads, problems, migrations } = await preflight(policy, deps);
  if (problems.length > 0) {
    const code: RejectCode = problems.some((p) => p.message.includes('is not in the catalog')) ? 'unknown-migration' : 'preflight-failed';
    return reject(ctx, runId, policy.metadata.name, code, `preflight found ${problems.length} problem(s); nothing was changed`, problems);
  }
  const planned = buildPlan(runId, policy, facts(workloads, migrations));
  if (!planned.ok) return reject(ctx, runId, policy.metadata.name, planned.problems ? 'invalid-policy' : 'no-safe-order', planned.message, planned.problems ?? []);
  const plan = pinChecksums(planned.plan, migrations);
  const tooBig = plannedEventProblem(plan);
  if (tooBig) return reject(ctx, runId, policy.metadata.name, 'invalid-policy', 'the plan is too large to announce in one upgrade.planned event', [tooBig]);
  const targets = plan.dryRun ? [] : runTargets(plan);
  await ctx.decide(async (d) => {
    const busy = await activeHolders(d.tx, runId, targets);
    if (busy.length > 0) {
      const held = busy.map((b) => ({ path: 'spec', message: `${b.kind} ${b.target} is held by active run ${b.runId}` }));
      return rejectIn(ctx, d, runId, policy.metadata.name, 'target-busy', `${busy.length} target(s) belong to another active run: ${[...new Set(busy.map((b) => b.runId))].join(', ')}`, held);
    }
    if (!(await startRun(d.tx, runId, { policy: request.policy, requestedBy: request.requestedBy ?? null }, targets))) {
      ctx.log.info('run planned meanwhile by another delivery: request ignored');
      return;
    }
    await savePlan(d.tx, plan);
    d.emit('upgrade.planned', { runId, policyName: plan.policyName, dryRun: plan.dryRun, waves: plan.waves, migrations: plan.migrations });
    if (plan.dryRun) {
      await setRunStatus(d.tx, runId, 'planned');
      return;
    }
    emitFirstStage(d, plan);
  });
}

function emitFirstStage(d: Decision, plan: RunPlan): void {
  const first = firstStage(plan);
  if (first.kind === 'expand') d.emit('migration.expand.requested', { runId: plan.runId, migrations: first.migrations });
  else if (first.kind === 'wave') d.emit('rollout.wave.requested', first.request);
  else d.emit('verify.requested', { runId: plan.runId });
}

function facts(workloads: WorkloadSeen[], migrations: MigrationFacts[]) {
  return {
    currentImages: new Map(workloads.filter((w) => w.currentImage).map((w) => [`${w.service}@${w.cluster}`, w.currentImage ?? ''])),
    migrations: new Map(migrations.map((m) => [m.ref, { store: m.store ?? 'postgres', autoShards: autoShardCount(m.estimatedRows ?? 0) }])),
  };
}

async function reject(
  ctx: HandlerContext<PlanConfig>, runId: string, policyName: string | undefined, code: RejectCode, reason: string, problems: FieldProblem[],
): Promise<void> {
  await ctx.decide((d) => rejectIn(ctx, d, runId, policyName, code, reason, problems));
}

async function rejectIn(
  ctx: HandlerContext<PlanConfig>, d: Decision, runId: string, policyName: string | undefined, code: RejectCode, reason: string, problems: FieldProblem[],
): Promise<void> {
  const rejection = rejectionOf({ runId, policyName, code, reason, problems }); // bounded and schema-checked: emitting it cannot throw
  if (!(await startRun(d.tx, runId, { rejected: code }, []))) return;
  await setRunStatus(d.tx, runId, 'rejected');
  ctx.log.warn({ code, problems: rejection.problems }, `request rejected: ${rejection.reason}`);
  d.emit('upgrade.rejected', rejection);
}
