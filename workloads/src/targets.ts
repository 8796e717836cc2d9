/**
 * The targets of a run plan against their clusters: observe each one's rollout phase, or patch each one's
 * image, with Kubernetes failures sorted into retried deliveries and permanent target failures. Used by
 * rollout for its waves and reverts.
 */
import type { PlannedTarget, RunPlan } from '@upshift/events';
import { UpshiftError } from '@upshift/runtime';
import type { ClusterRegistry } from './clusters.ts';
import { rolloutStatus, unreachable, type TargetPhase } from './core/rollout-status.ts';
import { classifyKubernetesError } from './kubernetes-errors.ts';
import { observePods, observeWorkload, patchImage, type WorkloadRef } from './workload.ts';

/** The clients of a plan target's cluster. */
export function clientsFor(plan: RunPlan, registry: ClusterRegistry, cluster: string) {
  const access = plan.clusters.find((c) => c.name === cluster);
  if (!access) throw new UpshiftError('CONTRACT_VIOLATION', `cluster ${cluster} is not in the plan of run ${plan.runId}`);
  return registry.get(access);
}

/** The adapter's reference to a plan target. */
export function refOf(target: PlannedTarget): WorkloadRef {
  return { cluster: target.cluster, namespace: target.namespace, kind: target.workload.kind, name: target.workload.name, container: target.container };
}

/**
 * Observes each target against the image it should run. A cluster that does not answer makes its targets
 * `Unreachable` (the wave looks again until its deadline); an API answer worth retrying (409, 429, 5xx)
 * throws (the delivery is retried); a permanent one (403, 404) becomes that target's failure.
 */
export async function observeTargets(plan: RunPlan, registry: ClusterRegistry, targets: PlannedTarget[], imageOf: (t: PlannedTarget) => string): Promise<TargetPhase[]> {
  const phases: TargetPhase[] = [];
  for (const target of targets) {
    const ref = refOf(target);
    try {
      const clients = clientsFor(plan, registry, target.cluster);
      const { observed, selector } = await observeWorkload(clients, ref);
      const pods = await observePods(clients, ref.namespace, selector);
      phases.push({ service: target.service, cluster: target.cluster, phase: rolloutStatus(observed, imageOf(target), pods) });
    } catch (error) {
      phases.push({ service: target.service, cluster: target.cluster, phase: permanentOrThrow(error, 'get', ref) });
    }
  }
  return phases;
}

/**
 * Sets each target's image; returns the workloads actually patched and the targets that were not, each
 * with why (`Failed` for good, or `Unreachable`: patch it again on the next look). Same error rules as observing.
 */
export async function patchTargets(
  plan: RunPlan,
  registry: ClusterRegistry,
  targets: PlannedTarget[],
  change: (t: PlannedTarget) => { image: string; previousImage: string },
): Promise<{ patched: string[]; failures: TargetPhase[] }> {
  const patched: string[] = [];
  const failures: TargetPhase[] = [];
  for (const target of targets) {
    const ref = refOf(target);
    try {
      const { image, previousImage } = change(target);
      if (await patchImage(clientsFor(plan, registry, target.cluster), ref, image, { runId: plan.runId, previousImage })) {
        patched.push(`${target.service}@${target.cluster}`);
      }
    } catch (error) {
      failures.push({ service: target.service, cluster: target.cluster, phase: permanentOrThrow(error, 'patch', ref) });
    }
  }
  return { patched, failures };
}

function permanentOrThrow(error: unknown, verb: string, ref: WorkloadRef): TargetPhase['phase'] {
  if (error instanceof UpshiftError) throw error;
  const failure = classifyKubernetesError(error, verb, ref);
  if (failure.unreachable) return unreachable(failure.message);
  if (failure.retriable) {
    throw new UpshiftError(failure.status === 409 ? 'CONFLICT' : 'UNAVAILABLE', failure.message, { cause: error, context: { cluster: ref.cluster } });
  }
  return { phase: 'Failed', message: failure.message, podReasons: [] };
}
