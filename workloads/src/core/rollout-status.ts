/**
 * The `kubectl rollout status` rules as a pure function over observed workload state
 * (kubectl/pkg/polymorphichelpers/rollout_status.go), plus pod-level reasons for failure messages.
 */

/** A workload condition as the API reports it (only the fields the rules read). */
export interface ObservedCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** What the rules read from a Deployment or StatefulSet; the adapter maps API objects to this. */
export interface ObservedWorkload {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
  generation: number;
  observedGeneration: number;
  /** spec.replicas (defaults to 1 when unset). */
  desiredReplicas: number;
  /** status.replicas: every pod of the workload, old and new. */
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  conditions: ObservedCondition[];
  /** The image of the container being rolled out, as in the current spec. */
  image: string | undefined;
  /** StatefulSet only. */
  currentRevision?: string;
  updateRevision?: string;
  /** StatefulSet RollingUpdate partition (0 when unset). */
  partition?: number;
}

/** A pod's state reduced to what explains a failed rollout. */
export interface ObservedPod {
  name: string;
  phase: string;
  /** Waiting/terminated reasons of its containers, e.g. CrashLoopBackOff, ImagePullBackOff, Error. */
  containerReasons: string[];
  restarts: number;
}

/** Argo-style phase of one workload's rollout: where it is, why, and when to look again. */
export type RolloutPhase =
  | { phase: 'Running'; message: string; recheckAfterMs: number }
  | { phase: 'Successful'; message: string }
  | { phase: 'Failed'; message: string; podReasons: string[] }
  /** The cluster's API did not answer (refused, reset, timed out): looked at again until the wave's deadline. */
  | { phase: 'Unreachable'; message: string; recheckAfterMs: number };

/** One workload of a wave (or of a revert) and the phase its rollout is in. */
export interface TargetPhase {
  service: string;
  cluster: string;
  phase: RolloutPhase;
}

const recheckAfterMs = 2000;

/** Pod states worth naming when a rollout fails. */
const telling = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'OOMKilled', 'Error', 'InvalidImageName']);

/** Decides the rollout phase of one workload that should be running `targetImage`. */
export function rolloutStatus(workload: ObservedWorkload, targetImage: string, pods: ObservedPod[] = []): RolloutPhase {
  const ref = `${workload.kind.toLowerCase()} ${workload.namespace}/${workload.name}`;
  if (workload.image !== targetImage) {
    return running(`${ref}: spec has image ${workload.image ?? '(none)'}, not yet ${targetImage}`);
  }
  if (workload.observedGeneration < workload.generation) {
    return running(`${ref}: waiting for the spec update to be observed (generation ${workload.generation}, observed ${workload.observedGeneration})`);
  }
  return workload.kind === 'Deployment' ? deploymentStatus(workload, ref, pods) : statefulSetStatus(workload, ref, pods);
}

function deploymentStatus(d: ObservedWorkload, ref: string, pods: ObservedPod[]): RolloutPhase {
  const progressing = d.conditions.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return failed(`${ref} exceeded its progress deadline`, pods);
  }
  if (d.updatedReplicas < d.desiredReplicas) {
    return running(`${ref}: ${d.updatedReplicas} of ${d.desiredReplicas} new replicas have been updated`);
  }
  if (d.replicas > d.updatedReplicas) {
    return running(`${ref}: ${d.replicas - d.updatedReplicas} old replicas are pending termination`);
  }
  if (d.availableReplicas < d.updatedReplicas) {
    return running(`${ref}: ${d.availableReplicas} of ${d.updatedReplicas} updated replicas are available`);
  }
  return { phase: 'Successful', message: `${ref} successfully rolled out` };
}

function statefulSetStatus(s: ObservedWorkload, ref: string, pods: ObservedPod[]): RolloutPhase {
  if (s.observedGeneration === 0) return running(`${ref}: waiting for the statefulset spec update to be observed`);
  const crashing = podReasons(pods).filter((r) => /CrashLoopBackOff|ImagePullBackOff|ErrImagePull|InvalidImageName/.test(r));
  // StatefulSets have no progress deadline; a pod stuck in a crash or pull loop is the failure signal.
  if (crashing.length > 0 && s.readyReplicas < s.desiredReplicas) return failed(`${ref} has pods that cannot start`, pods);
  if (s.readyReplicas < s.desiredReplicas) {
    return running(`${ref}: ${s.readyReplicas} of ${s.desiredReplicas} pods are ready`);
  }
  const partition = s.partition ?? 0;
  if (partition > 0) {
    if (s.updatedReplicas < s.desiredReplicas - partition) {
      return running(`${ref}: ${s.updatedReplicas} of ${s.desiredReplicas - partition} pods updated (partition ${partition})`);
    }
    return { phase: 'Successful', message: `${ref}: partitioned roll out complete (${s.updatedReplicas} new pods)` };
  }
  if (s.updateRevision !== s.currentRevision) {
    return running(`${ref}: waiting for the rolling update to complete (${s.updatedReplicas} pods at revision ${s.updateRevision ?? '?'})`);
  }
  return { phase: 'Successful', message: `${ref}: rolling update complete (${s.readyReplicas} pods at revision ${s.updateRevision ?? '?'})` };
}

/**
 * Available at its generation: the rollout rules find the workload done at the image its own spec names
 * (every replica updated and available, no old one left), whatever image that is.
 */
export function isAvailable(workload: ObservedWorkload): boolean {
  return workload.image !== undefined && rolloutStatus(workload, workload.image).phase === 'Successful';
}

/** Human-readable pod reasons, e.g. "web-7d9f-abc: CrashLoopBackOff (5 restarts)". */
export function podReasons(pods: ObservedPod[]): string[] {
  const reasons: string[] = [];
  for (const pod of pods) {
    const named = pod.containerReasons.filter((r) => telling.has(r));
    if (pod.phase === 'Failed') named.unshift('pod Failed');
    if (named.length === 0) continue;
    const restarts = pod.restarts > 0 ? ` (${pod.restarts} restarts)` : '';
    reasons.push(`${pod.name}: ${[...new Set(named)].join(', ')}${restarts}`);
  }
  return reasons;
}

/** The phase of a workload whose cluster did not answer. */
export function unreachable(message: string): RolloutPhase {
  return { phase: 'Unreachable', message, recheckAfterMs };
}

function running(message: string): RolloutPhase {
  return { phase: 'Running', message, recheckAfterMs };
}

function failed(message: string, pods: ObservedPod[]): RolloutPhase {
  const reasons = podReasons(pods);
  return { phase: 'Failed', message: reasons.length > 0 ? `${message}: ${reasons.join('; ')}` : message, podReasons: reasons };
}
