/**
 * Reading and patching one workload container (Deployment or StatefulSet): the one place that maps API
 * objects to the observed state the pure rules in `core/` read.
 */
import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1Pod, type V1StatefulSet } from '@kubernetes/client-node';
import type { ClusterClients } from './clusters.ts';
import { isAvailable, type ObservedPod, type ObservedWorkload } from './core/rollout-status.ts';

/** One workload container that a rollout moves to a new image. */
export interface WorkloadRef {
  cluster: string;
  namespace: string;
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  container: string;
}

/** The field manager recorded on every change upshift makes, so `managedFields` show who changed what. */
export const fieldManager = 'upshift-rollout';
/** Annotations written on a patched workload: which run changed it and what it ran before. */
export const annotations = { runId: 'upshift.dev/run-id', previousImage: 'upshift.dev/previous-image' } as const;

type Workload = V1Deployment | V1StatefulSet;

/** Reads a workload and reduces it to what the rollout rules need, plus the pod selector. */
export async function observeWorkload(clients: ClusterClients, ref: WorkloadRef): Promise<{ observed: ObservedWorkload; selector: string }> {
  const workload = await readWorkload(clients, ref);
  return { observed: toObserved(workload, ref), selector: labelSelector(workload) };
}

/** What runs now: the container's image and whether the workload is Available at its generation. */
export async function workloadAvailability(clients: ClusterClients, ref: WorkloadRef): Promise<{ image: string | undefined; available: boolean }> {
  const { observed } = await observeWorkload(clients, ref);
  return { image: observed.image, available: isAvailable(observed) };
}

async function readWorkload(clients: ClusterClients, ref: WorkloadRef): Promise<Workload> {
  const request = { name: ref.name, namespace: ref.namespace };
  return ref.kind === 'Deployment'
    ? clients.apps.readNamespacedDeployment(request)
    : clients.apps.readNamespacedStatefulSet(request);
}

/** The image a workload's container runs in its current spec, or undefined when there is no such container. */
export async function currentImage(clients: ClusterClients, ref: WorkloadRef): Promise<string | undefined> {
  const workload = await readWorkload(clients, ref);
  return workload.spec?.template.spec?.containers.find((c) => c.name === ref.container)?.image;
}

/**
 * Sets the container's image (strategic merge patch keyed by container name) and records the run and the
 * previous image in annotations. Returns false without writing when the image is already in place.
 */
export async function patchImage(
  clients: ClusterClients,
  ref: WorkloadRef,
  image: string,
  context: { runId: string; previousImage: string },
): Promise<boolean> {
  if ((await currentImage(clients, ref)) === image) return false;
  const body = {
    metadata: { annotations: { [annotations.runId]: context.runId, [annotations.previousImage]: context.previousImage } },
    spec: { template: { spec: { containers: [{ name: ref.container, image }] } } },
  };
  const request = { name: ref.name, namespace: ref.namespace, body, fieldManager };
  const options = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
  if (ref.kind === 'Deployment') await clients.apps.patchNamespacedDeployment(request, options);
  else await clients.apps.patchNamespacedStatefulSet(request, options);
  return true;
}

/** The workload's pods reduced to what explains a failure (phase, container reasons, restarts). */
export async function observePods(clients: ClusterClients, namespace: string, selector: string): Promise<ObservedPod[]> {
  const pods = await clients.core.listNamespacedPod({ namespace, labelSelector: selector });
  return pods.items.map(toObservedPod);
}

function toObserved(workload: Workload, ref: WorkloadRef): ObservedWorkload {
  const status = workload.status;
  const base: ObservedWorkload = {
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
    generation: workload.metadata?.generation ?? 0,
    observedGeneration: status?.observedGeneration ?? 0,
    desiredReplicas: workload.spec?.replicas ?? 1,
    replicas: status?.replicas ?? 0,
    updatedReplicas: status?.updatedReplicas ?? 0,
    readyReplicas: status?.readyReplicas ?? 0,
    availableReplicas: status?.availableReplicas ?? 0,
    conditions: (status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
    })),
    image: workload.spec?.template.spec?.containers.find((c) => c.name === ref.container)?.image,
  };
  if (ref.kind === 'Deployment') return base;
  const set = workload as V1StatefulSet;
  return {
    ...base,
    ...(set.status?.currentRevision ? { currentRevision: set.status.currentRevision } : {}),
    ...(set.status?.updateRevision ? { updateRevision: set.status.updateRevision } : {}),
    partition: set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0,
  };
}

function labelSelector(workload: Workload): string {
  const labels = workload.spec?.selector.matchLabels ?? {};
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(',');
}

function toObservedPod(pod: V1Pod): ObservedPod {
  const statuses = pod.status?.containerStatuses ?? [];
  return {
    name: pod.metadata?.name ?? '?',
    phase: pod.status?.phase ?? 'Unknown',
    containerReasons: statuses.flatMap((s) => [s.state?.waiting?.reason, s.state?.terminated?.reason, s.lastState?.terminated?.reason])
      .filter((r): r is string => typeof r === 'string'),
    restarts: statuses.reduce((sum, s) => sum + s.restartCount, 0),
  };
}
