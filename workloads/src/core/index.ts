/**
 * The pure rules of `@upshift/workloads` (no Kubernetes client, no I/O): what a function's own
 * `src/core/` may import. Observed state comes in, a phase comes out.
 */
export {
  isAvailable, podReasons, rolloutStatus,
  type ObservedCondition, type ObservedPod, type ObservedWorkload, type RolloutPhase, type TargetPhase,
} from './rollout-status.ts';
export {
  deniedVerbsOf, namespaceQuestions, namespaceReads, questionKey, resourceOf, workloadFacts,
  type NamespaceQuestion, type NamespaceRead, type SeenWorkload, type WorkloadFacts, type WorkloadKey, type WorkloadKind,
} from './batched-reads.ts';
