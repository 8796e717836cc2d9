/**
 * Preflight facts about one workload, read without changing anything: does it exist, does it have the
 * container, what image it runs (through the shared `observeWorkload`), and may rollout's identity get
 * and patch it (access reviews).
 */
import type { ServiceSpec } from '@upshift/events';
import type { ClusterClients } from './clusters.ts';
import { isNotFound } from './kubernetes-errors.ts';
import { observeWorkload, type WorkloadRef } from './workload.ts';

/** The verbs rollout needs on each workload it upgrades. */
export const rolloutVerbs = ['get', 'patch'] as const;

/** What preflight saw of one workload container; `found` is undefined when `get` is denied. */
export type WorkloadAccess = WorkloadRef & {
  found?: boolean;
  containerFound?: boolean;
  currentImage?: string;
  /** Verbs rollout needs on this workload that its identity is denied, e.g. ['patch']. */
  deniedVerbs: string[];
};

/** The workload container of a policy service in one of its clusters. */
export function refOfService(service: ServiceSpec, cluster: string): WorkloadRef {
  return { cluster, namespace: service.namespace, kind: service.workload.kind, name: service.workload.name, container: service.container };
}

/** Reads one workload and checks that rollout's identity may get and patch it. */
export async function observeWorkloadAccess(clients: ClusterClients, ref: WorkloadRef, rolloutIdentity?: string): Promise<WorkloadAccess> {
  const denied = await deniedVerbs(clients, ref, rolloutIdentity);
  // Without get, the workload cannot be read: report the missing permission, not a missing workload.
  if (denied.includes('get')) return { ...ref, deniedVerbs: denied };
  try {
    const { observed } = await observeWorkload(clients, ref);
    return {
      ...ref,
      found: true,
      containerFound: observed.image !== undefined,
      ...(observed.image ? { currentImage: observed.image } : {}),
      deniedVerbs: denied,
    };
  } catch (error) {
    if (isNotFound(error)) return { ...ref, found: false, deniedVerbs: denied };
    throw error;
  }
}

/**
 * The verbs rollout needs that its identity is denied: a SubjectAccessReview for `rolloutIdentity`, or a
 * SelfSubjectAccessReview when the caller holds the same credential as rollout.
 */
async function deniedVerbs(clients: ClusterClients, ref: WorkloadRef, rolloutIdentity?: string): Promise<string[]> {
  const resource = ref.kind === 'Deployment' ? 'deployments' : 'statefulsets';
  const denied: string[] = [];
  for (const verb of rolloutVerbs) {
    const resourceAttributes = { group: 'apps', resource, verb, namespace: ref.namespace, name: ref.name };
    const review = rolloutIdentity
      ? await clients.authorization.createSubjectAccessReview({
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: rolloutIdentity, groups: groupsOf(rolloutIdentity), resourceAttributes } },
      })
      : await clients.authorization.createSelfSubjectAccessReview({
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } },
      });
    if (!review.status?.allowed) denied.push(verb);
  }
  return denied;
}

/** The groups Kubernetes gives a ServiceAccount user (RBAC bindings to them count too). */
function groupsOf(user: string): string[] {
  const match = /^system:serviceaccount:([^:]+):[^:]+$/.exec(user);
  return match ? ['system:serviceaccounts', `system:serviceaccounts:${match[1]}`, 'system:authenticated'] : ['system:authenticated'];
}
