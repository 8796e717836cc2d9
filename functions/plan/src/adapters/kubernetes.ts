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
    return { cluster: clients.cluster, index, reachable: false, error: describe(error) };
  }
}

/** Reads one service's workload in one cluster and checks that rollout's identity may get and patch it. */
export async function observeWorkload(clients: ClusterClients, service: ServiceSpec, index: number): Promise<WorkloadSeen> {
  const seen: WorkloadSeen = {
    service: service.name, index, cluster: clients.cluster, namespace: service.namespace,
    kind: service.workload.kind, name: service.workload.name, container: service.container,
  };
  const workload = await readWorkload(clients, service);
  if (!workload) return { ...seen, found: false, deniedVerbs: await deniedVerbs(clients, service) };
  const container = workload.spec?.template.spec?.containers.find((c) => c.name === service.container);
  return {
    ...seen,
    found: true,
    containerFound: container !== undefined,
    ...(container?.image ? { currentImage: container.image } : {}),
    deniedVerbs: await deniedVerbs(clients, service),
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

/** SelfSubjectAccessReview of each verb rollout needs, with the cluster credential rollout will use. */
async function deniedVerbs(clients: ClusterClients, service: ServiceSpec): Promise<string[]> {
  const resource = service.workload.kind === 'Deployment' ? 'deployments' : 'statefulsets';
  const denied: string[] = [];
  for (const verb of rolloutVerbs) {
    const review = await clients.authorization.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { group: 'apps', resource, verb, namespace: service.namespace, name: service.workload.name } },
      },
    });
    if (!review.status?.allowed) denied.push(verb);
  }
  return denied;
}

function describe(error: unknown): string {
  if (error instanceof ApiException) return `API answered ${error.code}`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause?.code ? `${message} (${cause.code})` : message;
}
