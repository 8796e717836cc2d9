/**
 * `@upshift/workloads`: everything upshift does with Kubernetes workloads, shared by plan (preflight),
 * rollout (patch and watch), verify (availability) and the demo. The pure rules are also exported alone
 * as `@upshift/workloads/core`, the only part a function's `src/core/` may import.
 */
export { apiClientMaker, ClusterRegistry, clusterClients, type ApiClass, type ClusterAccess, type ClusterClients } from './clusters.ts';
export {
  annotations, currentImage, fieldManager, observePods, observeWorkload, patchImage, workloadAvailability, type WorkloadRef,
} from './workload.ts';
export { classifyKubernetesError, isNotFound, type KubernetesFailure } from './kubernetes-errors.ts';
export { clientsFor, observeTargets, patchTargets, refOf } from './targets.ts';
export { observeCluster, type ClusterReadiness } from './readiness.ts';
export { listPageSize, observeWorkloadAccess, observeWorkloadsAccess, refOfService, rolloutVerbs, type WorkloadAccess } from './access.ts';
export * from './core/index.ts';
