import type { RolloutPhase } from './rollout-status.ts';

/** One workload of a wave and the phase its rollout is in. */
export interface TargetPhase {
  service: string;
  cluster: string;
  phase: RolloutPhase;
}

/** What observing a wave once tells the rollout function to do next. */
export type WaveDecision =
  | { kind: 'wait'; message: string; recheckAfterMs: number }
  | { kind: 'soak'; message: string; recheckAfterMs: number; succeededAt: number }
  | { kind: 'completed' }
  | { kind: 'failed'; reason: string; failures: Array<{ service: string; cluster: string; reason: string }> };

/** Observed facts about a wave, plus the bounds the policy sets. */
export interface WaveObservation {
  targets: TargetPhase[];
  now: number;
  /** Past this instant a wave still in progress has failed (progress deadline plus grace). */
  deadline: number;
  soakSeconds: number;
  /** When every target was first seen successful, if it was. */
  succeededAt?: number;
}

/**
 * Decides a wave's state: any failed workload fails the wave; all successful completes it once the soak
 * time has passed (a workload failing during the soak fails it); otherwise wait until the deadline.
 */
export function decideWave(observation: WaveObservation): WaveDecision {
  const failures = observation.targets
    .filter((t) => t.phase.phase === 'Failed')
    .map((t) => ({ service: t.service, cluster: t.cluster, reason: t.phase.message }));
  if (failures.length > 0) return failed(failures);
  const pending = observation.targets.filter((t) => t.phase.phase === 'Running');
  if (pending.length === 0) return soakOrComplete(observation);
  if (observation.now >= observation.deadline) {
    return failed(pending.map((t) => ({ service: t.service, cluster: t.cluster, reason: `not available before the deadline: ${t.phase.message}` })));
  }
  const recheckAfterMs = Math.min(...pending.map((t) => (t.phase.phase === 'Running' ? t.phase.recheckAfterMs : 1000)));
  return { kind: 'wait', message: pending.map((t) => t.phase.message).join('; '), recheckAfterMs };
}

function soakOrComplete(observation: WaveObservation): WaveDecision {
  if (observation.soakSeconds <= 0) return { kind: 'completed' };
  const succeededAt = observation.succeededAt ?? observation.now;
  const soakEnds = succeededAt + observation.soakSeconds * 1000;
  if (observation.now >= soakEnds) return { kind: 'completed' };
  const remaining = soakEnds - observation.now;
  return { kind: 'soak', succeededAt, message: `soaking, ${Math.ceil(remaining / 1000)}s left`, recheckAfterMs: Math.min(remaining, 2000) };
}

function failed(failures: Array<{ service: string; cluster: string; reason: string }>): WaveDecision {
  const reason = failures.map((f) => `${f.service} in ${f.cluster}: ${f.reason}`).join('; ');
  return { kind: 'failed', reason, failures };
}

/** The deadline of a wave patched at `patchedAt`: the progress deadline plus a grace for the controller to report it. */
export function waveDeadline(patchedAt: number, progressDeadlineSeconds: number, graceSeconds = 30): number {
  return patchedAt + (progressDeadlineSeconds + graceSeconds) * 1000;
}

/** What follows a completed wave: the migrations that start after it, the next wave, or verification. */
export type NextStage<M> = { kind: 'migrate'; migrations: M[] } | { kind: 'wave'; wave: number } | { kind: 'verify' };

/**
 * After wave `wave`: the migrations planned to start after it (`afterWave`), and nothing else — rollout
 * stops there and verify requests the next wave once their shards are all in (sequential, so a later
 * failure always finds final data to restore); else the next wave; else verification.
 */
export function nextStage<M extends { afterWave: number }>(wave: number, waveCount: number, migrations: readonly M[]): NextStage<M> {
  const starting = migrations.filter((m) => m.afterWave === wave);
  if (starting.length > 0) return { kind: 'migrate', migrations: starting };
  if (wave + 1 < waveCount) return { kind: 'wave', wave: wave + 1 };
  return { kind: 'verify' };
}

/** How a failed wave is answered: restore migrated data then revert images, revert images only, or freeze. */
export type FailureResponse = 'restore-then-revert' | 'revert' | 'freeze';

/**
 * The policy's answer to a failed wave. Under `rollback`, migrations that started after an earlier wave
 * have changed data (their shards are final: the next wave waited for them), so their shards are
 * restored before the images go back; with none, only the images go back.
 */
export function failureResponse(failurePolicy: 'rollback' | 'freeze', failedWave: number, migrations: ReadonlyArray<{ afterWave: number }>): FailureResponse {
  if (failurePolicy === 'freeze') return 'freeze';
  return migrations.some((m) => m.afterWave < failedWave) ? 'restore-then-revert' : 'revert';
}

/** A workload of a done wave with the image a rollback puts back. */
export interface RevertTarget {
  wave: number;
  service: string;
  cluster: string;
  previousImage: string;
}

/**
 * The compensation of a failed rollout: every wave touched so far (the failed one included, it may be
 * partly rolled out), newest first, so dependents go back before what they depend on.
 */
export function revertOrder(waves: Array<{ wave: number; targets: Array<{ service: string; cluster: string; previousImage: string }> }>, failedWave: number): RevertTarget[][] {
  return waves
    .filter((w) => w.wave <= failedWave)
    .sort((a, b) => b.wave - a.wave)
    .map((w) => w.targets.map((t) => ({ wave: w.wave, ...t })));
}
