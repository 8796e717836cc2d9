import { waveRequest, type DeepReadonly, type EventData, type PlannedTarget, type RunPlan } from '@upshift/events';
import { claimOnce, finishRun, UpshiftError, type HandlerContext } from '@upshift/runtime';
import { loadPlan } from '@upshift/runtime/store/plans.ts';
import type { ClusterRegistry } from '@upshift/runtime/kubernetes.ts';
import { decideWave, failureResponse, nextStage, waveDeadline, type WaveDecision } from './core/wave-decision.ts';
import { readRolloutStep, writeRolloutStep, type WaveCheckpoint } from './adapters/steps.ts';
import { observeTargets, patchTargets } from './observe.ts';
import { watchWithinBudget } from './watch.ts';
import type { RolloutConfig } from './config.ts';

/** Handler context of rollout. */
export type RolloutContext = HandlerContext<RolloutConfig>;

/** The run's plan, or a contract violation naming the run. */
export async function requirePlan(ctx: RolloutContext, runId: string): Promise<RunPlan> {
  const plan = await loadPlan(ctx.tx, runId);
  if (!plan) throw new UpshiftError('CONTRACT_VIOLATION', `run ${runId} has no plan`);
  return plan;
}

function waveTargets(plan: RunPlan, wave: number): PlannedTarget[] {
  const targets = plan.waves[wave]?.targets;
  if (!targets) throw new UpshiftError('CONTRACT_VIOLATION', `run ${plan.runId} has no wave ${wave}`);
  return targets;
}

/** `rollout.wave.requested`: patch the wave's images (no write for those already in place), then watch it. */
export async function startWave(ctx: RolloutContext, data: DeepReadonly<EventData<'rollout.wave.requested'>>, registry: ClusterRegistry): Promise<void> {
  const plan = await requirePlan(ctx, data.runId);
  const targets = waveTargets(plan, data.wave);
  const step = await readRolloutStep(ctx.tx, plan.runId, 'wave', data.wave);
  if (step.status === 'completed' || step.status === 'failed') return;
  const { patched, failures } = await patchTargets(plan, registry, targets, (t) => ({ image: t.image, previousImage: t.previousImage }));
  const checkpoint: WaveCheckpoint = { ...step.checkpoint, patchedAt: step.checkpoint.patchedAt ?? Date.now(), patched: [...(step.checkpoint.patched ?? []), ...patched] };
  ctx.log.info({ wave: data.wave, patched }, `wave ${data.wave}: patched ${patched.length} of ${targets.length} workloads`);
  if (failures.length > 0) {
    return finishWave(ctx, plan, data.wave, checkpoint, decideWave({ targets: failures, now: Date.now(), deadline: Infinity, soakSeconds: 0 }));
  }
  const deadline = waveDeadline(checkpoint.patchedAt ?? Date.now(), plan.strategy.progressDeadlineSeconds);
  await watchWave(ctx, plan, data.wave, checkpoint, { attempt: 1, deadline }, registry);
}

/** `rollout.wave.check`: the continuation of a wave still in progress. */
export async function checkWave(ctx: RolloutContext, data: DeepReadonly<EventData<'rollout.wave.check'>>, registry: ClusterRegistry): Promise<void> {
  const plan = await requirePlan(ctx, data.runId);
  const step = await readRolloutStep(ctx.tx, plan.runId, 'wave', data.wave);
  if (step.status === 'completed' || step.status === 'failed') return;
  await watchWave(ctx, plan, data.wave, step.checkpoint, { attempt: data.attempt, deadline: Date.parse(data.deadline) }, registry);
}

/**
 * Looks at the wave until it is decided or this invocation's budget is spent; then hands over to a
 * `rollout.wave.check` carrying the deadline, so no invocation blocks past its bound.
 */
async function watchWave(
  ctx: RolloutContext, plan: RunPlan, wave: number, checkpoint: WaveCheckpoint, bounds: { attempt: number; deadline: number }, registry: ClusterRegistry,
): Promise<void> {
  const targets = waveTargets(plan, wave);
  let succeededAt = checkpoint.succeededAt;
  const decision = await watchWithinBudget(ctx.config.UPSHIFT_ROLLOUT_BUDGET_MS, async () => {
    const phases = await observeTargets(plan, registry, targets, (t) => t.image);
    const seen = decideWave({ targets: phases, now: Date.now(), deadline: bounds.deadline, soakSeconds: plan.strategy.soakSeconds, ...(succeededAt ? { succeededAt } : {}) });
    if (seen.kind === 'soak') succeededAt = seen.succeededAt;
    return seen;
  });
  const latest: WaveCheckpoint = { ...checkpoint, ...(succeededAt ? { succeededAt } : {}) };
  if (decision.kind === 'completed' || decision.kind === 'failed') return finishWave(ctx, plan, wave, latest, decision);
  await writeRolloutStep(ctx.tx, plan.runId, 'wave', wave, { status: 'running', checkpoint: { ...latest, lastSeen: decision.message } });
  ctx.emit('rollout.wave.check', { runId: plan.runId, wave, attempt: bounds.attempt + 1, deadline: new Date(bounds.deadline).toISOString() });
}

async function finishWave(ctx: RolloutContext, plan: RunPlan, wave: number, checkpoint: WaveCheckpoint, decision: WaveDecision): Promise<void> {
  const targets = waveTargets(plan, wave);
  if (decision.kind === 'failed') {
    await writeRolloutStep(ctx.tx, plan.runId, 'wave', wave, { status: 'failed', checkpoint: { ...checkpoint, lastSeen: decision.reason } });
    ctx.emit('rollout.wave.failed', { runId: plan.runId, wave, reason: decision.reason, targets: decision.failures });
    return applyFailurePolicy(ctx, plan, wave, decision.reason);
  }
  await writeRolloutStep(ctx.tx, plan.runId, 'wave', wave, { status: 'completed', checkpoint });
  ctx.emit('rollout.wave.completed', {
    runId: plan.runId, wave, waves: plan.waves.length,
    targets: targets.map((t) => ({ service: t.service, cluster: t.cluster, image: t.image, previousImage: t.previousImage })),
  });
  const next = nextStage(wave, plan.waves.length, plan.migrations);
  const nextWave = next.kind === 'wave' ? waveRequest(plan, next.wave) : undefined;
  if (next.kind === 'migrate') {
    ctx.log.info({ wave, migrations: next.migrations.map((m) => m.ref) }, `wave ${wave}: migrations start; verify resumes the rollout when their shards are in`);
    ctx.emit('migration.requested', { runId: plan.runId, migrations: next.migrations });
  } else if (nextWave) {
    ctx.emit('rollout.wave.requested', nextWave);
  } else {
    ctx.emit('verify.requested', { runId: plan.runId });
  }
}

/**
 * The policy decides. `rollback`: when migrations already ran, `rollback.requested` (migrate-shard restores
 * their shards; verify fans the restores in and asks us for the image revert, with the stage and reason
 * kept in the run's `rollback` claim); otherwise the image revert at once. `freeze`: stop and say so.
 */
async function applyFailurePolicy(ctx: RolloutContext, plan: RunPlan, wave: number, reason: string): Promise<void> {
  const response = failureResponse(plan.strategy.failurePolicy, wave, plan.migrations);
  if (response === 'freeze') {
    await finishRun(ctx.tx, plan.runId, 'failed');
    ctx.emit('upgrade.failed', { runId: plan.runId, stage: 'rollout', reason: `frozen as the policy asks; workloads left as they are: ${reason}`, failurePolicy: 'freeze', frozen: true });
    return;
  }
  await ctx.tx.query(`UPDATE upshift.runs SET status = 'rolling-back', updated_at = now() WHERE id = $1`, [plan.runId]);
  if (response === 'revert') {
    ctx.emit('image.revert.requested', { runId: plan.runId, stage: 'rollout', reason, restoredShards: 0 });
  } else if (await claimOnce(ctx.tx, plan.runId, 'rollback', { stage: 'rollout', reason })) {
    ctx.emit('rollback.requested', { runId: plan.runId, stage: 'rollout', reason });
  }
}
