import type { TargetPhase } from '@upshift/workloads/core';

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
  /**
   * Past this instant a target whose cluster does not answer fails the wave (the progress deadline: no
   * controller report is awaited from a cluster nobody can reach). Defaults to `deadline`.
   */
  unreachableDeadline?: number;
  soakSeconds: number;
  /** When every target was first seen successful, if it was. */
  succeededAt?: number;
}

/**
 * Decides a wave's state: any failed workload fails the wave; all successful completes it once the soak
 * time has passed (a workload failing during the soak fails it); otherwise wait until the deadline. A
 * target whose cluster does not answer is waited for like one still rolling out, until the progress
 * deadline; then the wave fails naming the cluster.
 */
export function decideWave(observation: WaveObservation): WaveDecision {
  const failures = observation.targets
    .filter((t) => t.phase.phase === 'Failed')
    .map((t) => ({ service: t.service, cluster: t.cluster, reason: t.phase.message }));
  if (failures.length > 0) return failed(failures);
  const unreachable = observation.targets.filter((t) => t.phase.phase === 'Unreachable');
  if (unreachable.length > 0 && observation.now >= (observation.unreachableDeadline ?? observation.deadline)) {
    return failed(unreachable.map((t) => ({ service: t.service, cluster: t.cluster, reason: `cluster ${t.cluster} did not answer until the progress deadline: ${t.phase.message}` })));
  }
  const pending = observation.targets.filter((t) => t.phase.phase === 'Running' || t.phase.phase === 'Unreachable');
  if (pending.length === 0) return soakOrComplete(observation);
  if (observation.now >= observation.deadline) {
    return failed(pending.map((t) => ({ service: t.service, cluster: t.cluster, reason: `not available before the deadline: ${t.phase.message}` })));
  }
  const recheckAfterMs = Math.min(...pending.map((t) => ('recheckAfterMs' in t.phase ? t.phase.recheckAfterMs : 1000)));
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

/** Past the progress deadline, a target whose cluster does not answer fails its wave. */
export function unreachableDeadline(patchedAt: number, progressDeadlineSeconds: number): number {
  return waveDeadline(patchedAt, progressDeadlineSeconds, 0);
}

/** Time the run spent paused since the wave was patched (`pausedAtPatch`: its paused total then; unknown counts as 0). */
export function pausedSincePatch(pausedNow: number, pausedAtPatch: number | undefined): number {
  return Math.max(0, pausedNow - (pausedAtPatch ?? 0));
}

/**
 * The wave's deadlines, each moved later by the time the run spent paused since the patch: an operator's
 * pause never makes a wave fail its progress deadline.
 */
export function waveDeadlines(patchedAt: number, progressDeadlineSeconds: number, pausedMs: number): { deadline: number; unreachableDeadline: number } {
  return {
    deadline: waveDeadline(patchedAt, progressDeadlineSeconds) + pausedMs,
    unreachableDeadline: unreachableDeadline(patchedAt, progressDeadlineSeconds) + pausedMs,
  };
}
