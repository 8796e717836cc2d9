/**
 * How a run answers a failed stage, and the rollback as a saga (pure): every step that changed
 * something has a compensation, and the rollback runs the compensations in reverse order of the steps.
 * The steps are counted as the design orders them: the images wave by wave, then the data. Expand makes
 * the new images work on both shapes of the data, but the old images may not read the new shape, so the
 * data goes back first and the images after it, newest wave first (dependents before what they need).
 */
import type { EventData, RunPlan, Stage } from '@upshift/events';

/** A step of a run that changed something outside the control store. */
export type DoneStep = { kind: 'images'; wave: number } | { kind: 'data'; migrations: string[] };

/** The undo of one done step. */
export type Compensation = { kind: 'revert-images'; wave: number } | { kind: 'restore-data'; migrations: string[] };

/** Why a rollback runs: the stage that failed and its reason (kept with the run's `rollback` claim). */
export interface RollbackCause {
  stage: Stage;
  reason: string;
}

/**
 * What the run did before it failed: each wave it touched (the failed one too: it may be partly rolled
 * out), then the data of the migrations that ran.
 */
export function doneSteps(touchedWaves: readonly number[], migrationsRun: readonly string[]): DoneStep[] {
  const images = [...new Set(touchedWaves)].sort((a, b) => a - b).map((wave): DoneStep => ({ kind: 'images', wave }));
  return migrationsRun.length > 0 ? [...images, { kind: 'data', migrations: [...migrationsRun] }] : images;
}

/** The rollback: the compensations of the done steps, last step first. */
export function compensations(done: readonly DoneStep[]): Compensation[] {
  return [...done].reverse().map((step): Compensation => (step.kind === 'images' ? { kind: 'revert-images', wave: step.wave } : { kind: 'restore-data', migrations: step.migrations }));
}

/** The waves whose images a rollback puts back, in the order it does. */
export function imageRevertOrder(touchedWaves: readonly number[]): number[] {
  return compensations(doneSteps(touchedWaves, [])).flatMap((c) => (c.kind === 'revert-images' ? [c.wave] : []));
}

/** The migrations of a plan that have changed data by the time wave `failedWave` fails (they start after an earlier wave). */
export function migrationsRunBefore(plan: RunPlan, failedWave: number): string[] {
  return plan.migrations.filter((m) => m.afterWave < failedWave).map((m) => m.ref);
}

/** A run's answer to a failed stage: freeze where it stands, or start the rollback with its first compensation. */
export type FailureOutcome =
  | { kind: 'freeze'; failed: EventData<'upgrade.failed'> }
  | { kind: 'rollback'; cause: RollbackCause; restore: EventData<'rollback.requested'> }
  | { kind: 'rollback'; cause: RollbackCause; revert: EventData<'image.revert.requested'> };

/**
 * The failure policy applied to a failed stage. `freeze`: the run fails and leaves things as they are.
 * `rollback`: the compensations run from the last one: the data's restore when migrations changed data
 * (`rollback.requested`), else the image revert (`image.revert.requested`).
 */
export function onStageFailed(plan: RunPlan, failure: RollbackCause & { migrationsRun: readonly string[] }): FailureOutcome {
  const { stage, reason } = failure;
  const dataChanged = failure.migrationsRun.length > 0;
  if (plan.strategy.failurePolicy === 'freeze') {
    const left = stage === 'rollout' ? 'workloads' : 'data and images';
    return { kind: 'freeze', failed: { runId: plan.runId, stage, reason: clip(`frozen as the policy asks; ${left} left as they are: ${reason}`), failurePolicy: 'freeze', frozen: true } };
  }
  const cause = { stage, reason };
  return dataChanged
    ? { kind: 'rollback', cause, restore: { runId: plan.runId, stage, reason } }
    : { kind: 'rollback', cause, revert: { runId: plan.runId, stage, reason, restoredShards: 0 } };
}

/** Once every shard's restore is final: the next compensation (the images), or the run fails when a restore failed. */
export type AfterRestores = { kind: 'revert'; revert: EventData<'image.revert.requested'> } | { kind: 'failed'; failed: EventData<'upgrade.failed'> };

/** The step after the data's compensation. */
export function afterRestores(runId: string, cause: RollbackCause, restores: { final: number; failed: number }): AfterRestores {
  if (restores.failed > 0) {
    return { kind: 'failed', failed: { runId, stage: 'rollback', reason: clip(`${restores.failed} shard restore(s) failed; images left at their targets: ${cause.reason}`), failurePolicy: 'rollback', frozen: false } };
  }
  return { kind: 'revert', revert: { runId, stage: cause.stage, reason: cause.reason, restoredShards: restores.final } };
}

/** The end of the image revert, the last compensation: rolled back, or failed with why. */
export function afterImageRevert(plan: RunPlan, revert: EventData<'image.revert.requested'>, order: readonly number[], failure?: string): { kind: 'rolled-back'; rolledBack: EventData<'upgrade.rolled-back'> } | { kind: 'failed'; failed: EventData<'upgrade.failed'> } {
  if (failure !== undefined) {
    return { kind: 'failed', failed: { runId: plan.runId, stage: 'rollback', reason: clip(`the rollback itself failed (${failure}) after: ${revert.reason}`), failurePolicy: 'rollback', frozen: false } };
  }
  const revertedWorkloads = order.reduce((sum, wave) => sum + (plan.waves[wave]?.targets.length ?? 0), 0);
  return { kind: 'rolled-back', rolledBack: { runId: plan.runId, stage: revert.stage, reason: revert.reason, restoredShards: revert.restoredShards, revertedWorkloads } };
}

function clip(text: string): string {
  return text.length <= 2000 ? text : `${text.slice(0, 1999)}…`;
}
