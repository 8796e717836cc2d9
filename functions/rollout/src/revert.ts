import type { DeepReadonly, EventData, PlannedTarget, RunPlan } from '@upshift/events';
import { finishRun } from '@upshift/runtime';
import type { ClusterRegistry } from '@upshift/runtime/kubernetes.ts';
import { decideWave, revertOrder, waveDeadline } from './core/wave-decision.ts';
import { readRolloutStep, touchedWaves, writeRolloutStep, type WaveCheckpoint } from './adapters/steps.ts';
import { observeTargets, patchTargets } from './observe.ts';
import { watchWithinBudget } from './watch.ts';
import { requirePlan, type RolloutContext } from './wave.ts';

/** The revert of one run: which waves, newest first, and why. Kept in the `revert` step of wave -1. */
interface RevertState {
  order: number[];
  stage: EventData<'image.revert.requested'>['stage'];
  reason: string;
  restoredShards: number;
}

const stateKey = -1;

/** `image.revert.requested`: put back the previous image of every touched wave, newest wave first. */
export async function startRevert(ctx: RolloutContext, data: DeepReadonly<EventData<'image.revert.requested'>>, registry: ClusterRegistry): Promise<void> {
  const plan = await requirePlan(ctx, data.runId);
  const step = await readRolloutStep(ctx.tx, plan.runId, 'revert', stateKey);
  if (step.status !== 'pending') return;
  const touched = await touchedWaves(ctx.tx, plan.runId);
  const order = revertOrder(plan.waves.map((w) => ({ wave: w.index, targets: w.targets })), Math.max(-1, ...touched)).map((w) => w[0]?.wave ?? -1).filter((w) => touched.includes(w));
  const state: RevertState = { order, stage: data.stage, reason: data.reason, restoredShards: data.restoredShards };
  await writeRolloutStep(ctx.tx, plan.runId, 'revert', stateKey, { status: 'running', checkpoint: { lastSeen: JSON.stringify(state) } });
  ctx.log.warn({ waves: order }, `reverting ${order.length} wave(s): ${data.reason}`);
  await revertNext(ctx, plan, state, 0, registry);
}

/** `image.revert.check`: the continuation of a wave being reverted. */
export async function checkRevert(ctx: RolloutContext, data: DeepReadonly<EventData<'image.revert.check'>>, registry: ClusterRegistry): Promise<void> {
  const plan = await requirePlan(ctx, data.runId);
  const state = await readState(ctx, plan.runId);
  const position = state.order.indexOf(data.wave);
  if (position < 0) return;
  const step = await readRolloutStep(ctx.tx, plan.runId, 'revert', data.wave);
  if (step.status === 'completed' || step.status === 'failed') return;
  await watchRevert(ctx, plan, state, position, step.checkpoint, { attempt: data.attempt, deadline: Date.parse(data.deadline) }, registry);
}

async function readState(ctx: RolloutContext, runId: string): Promise<RevertState> {
  const step = await readRolloutStep(ctx.tx, runId, 'revert', stateKey);
  return JSON.parse(step.checkpoint.lastSeen ?? '{"order":[]}') as RevertState;
}

function targetsOf(plan: RunPlan, wave: number): PlannedTarget[] {
  return plan.waves[wave]?.targets ?? [];
}

async function revertNext(ctx: RolloutContext, plan: RunPlan, state: RevertState, position: number, registry: ClusterRegistry): Promise<void> {
  const wave = state.order[position];
  if (wave === undefined) return finishRevert(ctx, plan, state);
  const targets = targetsOf(plan, wave);
  const { patched, failures } = await patchTargets(plan, registry, targets, (t) => ({ image: t.previousImage, previousImage: t.image }));
  const checkpoint: WaveCheckpoint = { patchedAt: Date.now(), patched };
  if (failures.length > 0) return failRevert(ctx, plan, state, failures.map((f) => `${f.service} in ${f.cluster}: ${f.phase.message}`).join('; '));
  const deadline = waveDeadline(checkpoint.patchedAt ?? Date.now(), plan.strategy.progressDeadlineSeconds);
  await watchRevert(ctx, plan, state, position, checkpoint, { attempt: 1, deadline }, registry);
}

async function watchRevert(
  ctx: RolloutContext, plan: RunPlan, state: RevertState, position: number, checkpoint: WaveCheckpoint, bounds: { attempt: number; deadline: number }, registry: ClusterRegistry,
): Promise<void> {
  const wave = state.order[position] ?? -1;
  const decision = await watchWithinBudget(ctx.config.UPSHIFT_ROLLOUT_BUDGET_MS, async () => {
    const phases = await observeTargets(plan, registry, targetsOf(plan, wave), (t) => t.previousImage);
    return decideWave({ targets: phases, now: Date.now(), deadline: bounds.deadline, soakSeconds: 0 });
  });
  if (decision.kind === 'failed') return failRevert(ctx, plan, state, decision.reason);
  if (decision.kind === 'completed') {
    await writeRolloutStep(ctx.tx, plan.runId, 'revert', wave, { status: 'completed', checkpoint });
    return revertNext(ctx, plan, state, position + 1, registry);
  }
  await writeRolloutStep(ctx.tx, plan.runId, 'revert', wave, { status: 'running', checkpoint: { ...checkpoint, lastSeen: decision.message } });
  ctx.emit('image.revert.check', { runId: plan.runId, wave, attempt: bounds.attempt + 1, deadline: new Date(bounds.deadline).toISOString() });
}

async function finishRevert(ctx: RolloutContext, plan: RunPlan, state: RevertState): Promise<void> {
  const revertedWorkloads = state.order.reduce((sum, wave) => sum + targetsOf(plan, wave).length, 0);
  await finishRun(ctx.tx, plan.runId, 'rolled-back');
  ctx.emit('upgrade.rolled-back', { runId: plan.runId, stage: state.stage, reason: state.reason, restoredShards: state.restoredShards, revertedWorkloads });
}

async function failRevert(ctx: RolloutContext, plan: RunPlan, state: RevertState, why: string): Promise<void> {
  await finishRun(ctx.tx, plan.runId, 'failed');
  ctx.emit('upgrade.failed', { runId: plan.runId, stage: 'rollback', reason: `the rollback itself failed (${why}) after: ${state.reason}`, failurePolicy: 'rollback', frozen: false });
}
