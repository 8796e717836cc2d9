/**
 * A wave: patch its images, look at it once, decide. A wave still rolling out hands over to a
 * `rollout.wave.check` continuation that waits until the next look is due (outside any transaction);
 * a finished wave starts the stage the run lifecycle names, a failed one applies the failure policy.
 */
import type { DeepReadonly, EventData, PlannedTarget, RunPlan } from '@upshift/events';
import {
  afterWave, applyFailurePolicy, lockRun, migrationsRunBefore, pausedSoFar, readRunControl, readRunFacts, readWaveStep, requirePlan, UpshiftError, writeWaveStep,
  type Decision, type HandlerContext,
} from '@upshift/runtime';
import { observeTargets, type ClusterRegistry } from '@upshift/workloads';
import { decideWave, pausedSincePatch, waveDeadlines, type WaveDecision } from './core/wave-decision.ts';
import { patchPending } from './patch.ts';
import { untilRecheck, type WaveCheckpoint } from './adapters/steps.ts';
import type { RolloutConfig } from './config.ts';

/** Handler context of rollout. */
export type RolloutContext = HandlerContext<RolloutConfig>;

/** The targets of wave `wave`, or a contract violation naming the run. */
export function waveTargets(plan: RunPlan, wave: number): PlannedTarget[] {
  const targets = plan.waves[wave]?.targets;
  if (!targets) throw new UpshiftError('CONTRACT_VIOLATION', `run ${plan.runId} has no wave ${wave}`);
  return targets;
}

/** Waves as people count them (from 1), for log lines. */
const forPeople = (wave: number): number => wave + 1;

/** Where a wave's watch stands: the continuation's attempt and the wave's deadline (epoch ms). */
interface Bounds {
  attempt: number;
  deadline: number;
}

/** `rollout.wave.requested`: patch the wave's images (no write for those already in place), then look. */
export async function startWave(ctx: RolloutContext, data: DeepReadonly<EventData<'rollout.wave.requested'>>, registry: ClusterRegistry): Promise<void> {
  const plan = await requirePlan(ctx.store, data.runId);
  const step = await readWaveStep<WaveCheckpoint>(ctx.store, plan.runId, 'wave', data.wave);
  if (step.status === 'completed' || step.status === 'failed') return;
  if ((await readRunFacts(ctx.store, plan.runId))?.status !== 'running') {
    ctx.log.info({ wave: data.wave }, 'the run is no longer going forward: wave not started');
    return;
  }
  if (step.checkpoint?.patchedAt === undefined && (await readRunControl(ctx.store, plan.runId)).paused) {
    // Requested just before a pause: the wave is not started but held (the host holds a paused run's
    // forward events), and its resume asks for it again.
    ctx.log.info({ wave: forPeople(data.wave) }, `wave ${forPeople(data.wave)} held: the run is paused`);
    await ctx.decide(async (d) => void d.emit('rollout.wave.requested', { ...data, targets: data.targets.map((t) => ({ ...t, workload: { ...t.workload } })) }, { key: 'held' }));
    return;
  }
  await patchAndLook(ctx, plan, data.wave, step.checkpoint ?? {}, 1, registry);
}

/** `rollout.wave.check`: the continuation of a wave still in progress. */
export async function checkWave(ctx: RolloutContext, data: DeepReadonly<EventData<'rollout.wave.check'>>, registry: ClusterRegistry): Promise<void> {
  const plan = await requirePlan(ctx.store, data.runId);
  const step = await readWaveStep<WaveCheckpoint>(ctx.store, plan.runId, 'wave', data.wave);
  if (step.status === 'completed' || step.status === 'failed') return;
  await untilRecheck(step.checkpoint?.recheckAt, ctx.config.UPSHIFT_ROLLOUT_MAX_WAIT_MS);
  await patchAndLook(ctx, plan, data.wave, step.checkpoint ?? {}, data.attempt, registry);
}

/**
 * Patches what is still to patch (everything at first, then the targets of clusters that did not answer),
 * then looks at the wave's workloads once (the kubectl rollout-status rules) and decides. A patch the API
 * refused for good fails the wave at once.
 */
async function patchAndLook(ctx: RolloutContext, plan: RunPlan, wave: number, previous: WaveCheckpoint, attempt: number, registry: ClusterRegistry): Promise<void> {
  const targets = waveTargets(plan, wave);
  const pass = await patchPending(plan, registry, targets, previous, (t) => ({ image: t.image, previousImage: t.previousImage }));
  const { refused } = pass;
  // Time the run spent paused since the patch does not count against the wave's deadlines.
  const pausedNow = pausedSoFar(await readRunControl(ctx.store, plan.runId), Date.now());
  const checkpoint: WaveCheckpoint = previous.patchedAt === undefined ? { ...pass.checkpoint, pausedMsAtPatch: pausedNow } : pass.checkpoint;
  const patchedAt = checkpoint.patchedAt ?? Date.now();
  const deadlines = waveDeadlines(patchedAt, plan.strategy.progressDeadlineSeconds, pausedSincePatch(pausedNow, checkpoint.pausedMsAtPatch));
  const bounds = { attempt, deadline: deadlines.deadline };
  if (previous.patchedAt === undefined) {
    ctx.log.info({ wave: forPeople(wave), patched: checkpoint.patched, unanswered: checkpoint.unpatched }, `wave ${forPeople(wave)}: patched ${checkpoint.patched?.length ?? 0} of ${targets.length} workloads`);
  }
  if (refused.length > 0) {
    const decision = decideWave({ targets: refused, now: Date.now(), deadline: Infinity, soakSeconds: 0 });
    await ctx.decide((d) => decideOnWave(d, plan, wave, checkpoint, decision, bounds));
    return;
  }
  const phases = await observeTargets(plan, registry, targets, (t) => t.image);
  const decision = decideWave({
    targets: phases, now: Date.now(), deadline: bounds.deadline, soakSeconds: plan.strategy.soakSeconds,
    unreachableDeadline: deadlines.unreachableDeadline,
    ...(checkpoint.succeededAt ? { succeededAt: checkpoint.succeededAt } : {}),
  });
  const latest: WaveCheckpoint = decision.kind === 'soak' ? { ...checkpoint, succeededAt: decision.succeededAt } : checkpoint;
  await ctx.decide((d) => decideOnWave(d, plan, wave, latest, decision, bounds));
}

/** Carries a wave decision out: a continuation, the wave's end and the stage after it, or the failure policy. */
async function decideOnWave(d: Decision, plan: RunPlan, wave: number, checkpoint: WaveCheckpoint, decision: WaveDecision, bounds: Bounds): Promise<void> {
  const { runId } = plan;
  // A run that stopped going forward (a failure elsewhere started its rollback, or it ended) takes no next step.
  if ((await lockRun(d.tx, runId))?.status !== 'running') return;
  const startedAt = checkpoint.patchedAt ?? Date.now();
  if (decision.kind === 'wait' || decision.kind === 'soak') {
    await writeWaveStep(d.tx, runId, 'wave', wave, { status: 'running', checkpoint: { ...checkpoint, lastSeen: decision.message, recheckAt: Date.now() + decision.recheckAfterMs }, startedAt });
    d.emit('rollout.wave.check', { runId, wave, attempt: bounds.attempt + 1, deadline: new Date(bounds.deadline).toISOString() });
    return;
  }
  if (decision.kind === 'failed') {
    await writeWaveStep(d.tx, runId, 'wave', wave, { status: 'failed', checkpoint: { ...checkpoint, lastSeen: decision.reason }, startedAt });
    d.emit('rollout.wave.failed', { runId, wave, reason: decision.reason, targets: decision.failures });
    return applyFailurePolicy(d, plan, { stage: 'rollout', reason: decision.reason, migrationsRun: migrationsRunBefore(plan, wave) });
  }
  await writeWaveStep(d.tx, runId, 'wave', wave, { status: 'completed', checkpoint, startedAt });
  d.emit('rollout.wave.completed', {
    runId, wave, waves: plan.waves.length,
    targets: waveTargets(plan, wave).map((t) => ({ service: t.service, cluster: t.cluster, image: t.image, previousImage: t.previousImage })),
  });
  const next = afterWave(plan, wave);
  if (next.kind === 'migrate') d.emit('migration.requested', { runId, migrations: next.migrations });
  else if (next.kind === 'wave') d.emit('rollout.wave.requested', next.request);
  else d.emit('verify.requested', { runId });
}
