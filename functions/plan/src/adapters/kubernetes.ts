import { ApiException, type V1Deployment, type V1StatefulSet } from '@kubernetes/client-node';
import type { ServiceSpec } from '@upshift/events';
import type { ClusterClients } from '@upshift/runtime/kubernetes.ts';
import type { ClusterSeen, WorkloadSeen } from '../core/preflight.ts';

/** The verbs rollout needs on each workload it upgrades. */
export const rolloutVerbs = ['get', 'patch'] as const;

/** Asks the API server whether it is ready; an error or timeout means unreachable, with the reason. */
export async function observeCluster(clients: ClusterClients, index: number): Promise<ClusterSeen> {
  try {
    const ready = await clients.health.readyz({ timeout: 5000 });
    return ready
      ? { cluster: clients.cluster, index, reachable: true }
      : { cluster: clients.cluster, index, reachable: false, error: '/readyz is not ok' };
  } catch (error) {
    return { cluster: clients.cluster, index, reachable: false, error: await unreachableReason(clients, error) };
  }
}

/**
 * Why `/readyz` could not be asked. client-node's Health replaces every failure with "Error occurred in
 * health request", so one cheap API call (GET /api/v1) is made to get the network cause the generated
 * clients keep ("connect ECONNREFUSED 127.0.0.1:6443", a certificate error), within 5 s.
 */
async function unreachableReason(clients: ClusterClients, error: unknown): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${clients.config.getCurrentCluster()?.server ?? 'the API server'} did not answer within 5 s`), 5000);
  });
  const probe = clients.core.getAPIResources().then(() => describe(error), (cause: unknown) => describe(cause));
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads one service's workload in one cluster and checks that rollout's identity may get and patch it. */
export async function observeWorkload(clients: ClusterClients, service: ServiceSpec, index: number, rolloutIdentity?: string): Promise<WorkloadSeen> {
  const seen: WorkloadSeen = {
    service: service.name, index, cluster: clients.cluster, namespace: service.namespace,
    kind: service.workload.kind, name: service.workload.name, container: service.container,
  };
  const denied = await deniedVerbs(clients, service, rolloutIdentity);
  // Without get, the workload cannot be read: report the missing permission, not a missing workload.
  if (denied.includes('get')) return { ...seen, deniedVerbs: denied };
  const workload = await readWorkload(clients, service);
  if (!workload) return { ...seen, found: false, deniedVerbs: denied };
  const container = workload.spec?.template.spec?.containers.find((c) => c.name === service.container);
  return {
    ...seen,
    found: true,
    containerFound: container !== undefined,
    ...(container?.image ? { currentImage: container.image } : {}),
    deniedVerbs: denied,
  };
}

async function readWorkload(clients: ClusterClients, service: ServiceSpec): Promise<V1Deployment | V1StatefulSet | undefined> {
  const request = { name: service.workload.name, namespace: service.namespace };
  try {
    return service.workload.kind === 'Deployment'
      ? await clients.apps.readNamespacedDeployment(request)
      : await clients.apps.readNamespacedStatefulSet(request);
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

/**
 * The verbs rollout needs that its identity is denied: a SubjectAccessReview for `rolloutIdentity`, or a
 * SelfSubjectAccessReview when plan holds the same credential as rollout.
 */
async function deniedVerbs(clients: ClusterClients, service: ServiceSpec, rolloutIdentity?: string): Promise<string[]> {
  const resource = service.workload.kind === 'Deployment' ? 'deployments' : 'statefulsets';
  const denied: string[] = [];
  for (const verb of rolloutVerbs) {
    const resourceAttributes = { group: 'apps', resource, verb, namespace: service.namespace, name: service.workload.name };
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

function describe(error: unknown): string {
  if (error instanceof ApiException) return `API answered ${error.code}`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause?.code ? `${message} (${cause.code})` : message;
}
