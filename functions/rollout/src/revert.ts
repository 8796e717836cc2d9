/**
 * The image revert, the rollback's last compensation: every wave the run touched gets its previous
 * images back, newest wave first (the order `imageRevertOrder` gives). The order and why are kept with
 * the run's `image-revert` claim; each wave's revert is a `revert` step, looked at once per invocation
 * and continued by `image.revert.check` events.
 */
import type { DeepReadonly, EventData, RunPlan } from '@upshift/events';
import {
  afterImageRevert, claimDetail, claimOnce, imageRevertOrder, isClaimed, readWaveStep, requirePlan, setRunStatus, touchedWaves, writeWaveStep, type Decision,
} from '@upshift/runtime';
import { observeTargets, type ClusterRegistry } from '@upshift/workloads';
import { decideWave, unreachableDeadline, waveDeadline } from './core/wave-decision.ts';
import { patchPending } from './patch.ts';
import { untilRecheck, type WaveCheckpoint } from './adapters/steps.ts';
import { waveTargets, type RolloutContext } from './wave.ts';

/** The image revert of one run: what was asked, and the waves to revert in order. */
interface ImageRevert extends EventData<'image.revert.requested'> {
  order: number[];
}

/** `image.revert.requested`: claims the revert once, with its order, and starts with the newest touched wave. */
export async function startRevert(ctx: RolloutContext, data: DeepReadonly<EventData<'image.revert.requested'>>): Promise<void> {
  const plan = await requirePlan(ctx.store, data.runId);
  if (await isClaimed(ctx.store, plan.runId, 'image-revert')) return;
  const order = imageRevertOrder(await touchedWaves(ctx.store, plan.runId));
  const revert: ImageRevert = { ...data, order };
  ctx.log.warn({ waves: order }, `reverting ${order.length} wave(s): ${data.reason}`);
  await ctx.decide(async (d) => {
    if (!(await claimOnce(d.tx, plan.runId, 'image-revert', revert))) return;
    const first = order[0];
    if (first === undefined) return finishRevert(d, plan, revert);
    d.emit('image.revert.check', { runId: plan.runId, wave: first, attempt: 1, deadline: provisionalDeadline(plan) });
  });
}

/**
 * `image.revert.check`: patch a wave's previous images (on its first check, and again for clusters that
 * did not answer), then look once and decide.
 */
export async function checkRevert(ctx: RolloutContext, data: DeepReadonly<EventData<'image.revert.check'>>, registry: ClusterRegistry): Promise<void> {
  const plan = await requirePlan(ctx.store, data.runId);
  const revert = await claimDetail<ImageRevert>(ctx.store, plan.runId, 'image-revert');
  const position = revert?.order.indexOf(data.wave) ?? -1;
  if (!revert || position < 0) return;
  const step = await readWaveStep<WaveCheckpoint>(ctx.store, plan.runId, 'revert', data.wave);
  if (step.status === 'completed' || step.status === 'failed') return;
  const targets = waveTargets(plan, data.wave);
  const previous = step.checkpoint ?? {};
  if (previous.patchedAt !== undefined) await untilRecheck(previous.recheckAt, ctx.config.UPSHIFT_ROLLOUT_MAX_WAIT_MS);
  const { checkpoint, refused } = await patchPending(plan, registry, targets, previous, (t) => ({ image: t.previousImage, previousImage: t.image }));
  const startedAt = checkpoint.patchedAt ?? Date.now();
  const deadline = waveDeadline(startedAt, plan.strategy.progressDeadlineSeconds);
  // A patch the API refused for good (403, 404) fails this wave's revert at once.
  const decision = refused.length > 0
    ? decideWave({ targets: refused, now: Date.now(), deadline: Infinity, soakSeconds: 0 })
    : decideWave({
      targets: await observeTargets(plan, registry, targets, (t) => t.previousImage), now: Date.now(), deadline, soakSeconds: 0,
      unreachableDeadline: unreachableDeadline(startedAt, plan.strategy.progressDeadlineSeconds),
    });
  await ctx.decide(async (d) => {
    if (decision.kind === 'wait' || decision.kind === 'soak') {
      await writeWaveStep(d.tx, plan.runId, 'revert', data.wave, { status: 'running', checkpoint: { ...checkpoint, lastSeen: decision.message, recheckAt: Date.now() + decision.recheckAfterMs }, startedAt });
      d.emit('image.revert.check', { runId: plan.runId, wave: data.wave, attempt: data.attempt + 1, deadline: new Date(deadline).toISOString() });
      return;
    }
    // A wave that could not be reverted (a cluster that never answered, a workload that did not come
    // back) does not stop the others: every wave gets its revert, and the run's end names what failed.
    const failed = decision.kind === 'failed';
    await writeWaveStep(d.tx, plan.runId, 'revert', data.wave, { status: failed ? 'failed' : 'completed', checkpoint: failed ? { ...checkpoint, lastSeen: decision.reason } : checkpoint, startedAt });
    const next = revert.order[position + 1];
    if (next !== undefined) {
      d.emit('image.revert.check', { runId: plan.runId, wave: next, attempt: 1, deadline: provisionalDeadline(plan) });
      return;
    }
    const failures = await revertFailures(d, plan, revert);
    return failures.length > 0 ? failRevert(d, plan, revert, failures.join('; ')) : finishRevert(d, plan, revert);
  });
}

/** What the waves that could not be reverted saw, newest wave first. */
async function revertFailures(d: Decision, plan: RunPlan, revert: ImageRevert): Promise<string[]> {
  const failures: string[] = [];
  for (const wave of revert.order) {
    const step = await readWaveStep<WaveCheckpoint>(d.tx, plan.runId, 'revert', wave);
    if (step.status === 'failed') failures.push(`wave ${wave + 1} not reverted: ${step.checkpoint?.lastSeen ?? 'unknown reason'}`);
  }
  return failures;
}

/** A wave not patched yet: its deadline counts from its patch, so the event carries a provisional one. */
function provisionalDeadline(plan: RunPlan): string {
  return new Date(waveDeadline(Date.now(), plan.strategy.progressDeadlineSeconds)).toISOString();
}

async function finishRevert(d: Decision, plan: RunPlan, revert: ImageRevert): Promise<void> {
  const end = afterImageRevert(plan, revert, revert.order);
  if (end.kind !== 'rolled-back') return;
  await setRunStatus(d.tx, plan.runId, 'rolled-back');
  d.emit('upgrade.rolled-back', end.rolledBack);
}

async function failRevert(d: Decision, plan: RunPlan, revert: ImageRevert, why: string): Promise<void> {
  const end = afterImageRevert(plan, revert, revert.order, why);
  if (end.kind !== 'failed') return;
  await setRunStatus(d.tx, plan.runId, 'failed');
  d.emit('upgrade.failed', end.failed);
}
