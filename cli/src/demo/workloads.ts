/**
 * The demo's sample workloads: one Deployment per service of the policy in each of its clusters, at the
 * version before the upgrade. Idempotent: an existing Deployment is replaced (image, replicas and the
 * annotations upshift leaves are reset), then every one is waited for until Available.
 */
import type { CoreV1Api, V1Deployment } from '@kubernetes/client-node';
import type { UpgradePolicy } from '@upshift/events';
import { ClusterRegistry, workloadAvailability, type ClusterClients } from '@upshift/workloads';

/** The version each sample service runs before the demo upgrades it. */
export const previousTags: Readonly<Record<string, string>> = { customers: '1.9.0', orders: '3.0.2', storefront: '5.3.1' };

/** One Deployment to put in one cluster. */
export interface SampleWorkload {
  readonly cluster: string;
  readonly context: string;
  readonly namespace: string;
  readonly name: string;
  readonly container: string;
  readonly image: string;
  readonly replicas: number;
}

/** The image a service ran before: the target's repository with the previous tag. */
export function previousImage(service: string, targetImage: string): string {
  const repository = targetImage.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^:/]+$/, '');
  return `${repository}:${previousTags[service] ?? '1.0.0'}`;
}

/** Every (service × cluster) Deployment of the policy at its previous version; 2 or 3 replicas. */
export function sampleWorkloads(policy: UpgradePolicy): SampleWorkload[] {
  const contexts = new Map(policy.spec.clusters.map((c) => [c.name, c.context ?? c.name]));
  return policy.spec.services.flatMap((service, index) => service.clusters.map((cluster) => ({
    cluster, context: contexts.get(cluster) ?? cluster, namespace: service.namespace, name: service.workload.name,
    container: service.container, image: previousImage(service.name, service.image), replicas: 2 + (index % 2),
  })));
}

/** The Deployment object of a sample workload (short progress deadline so a failing image shows fast). */
export function deploymentOf(w: SampleWorkload, progressDeadlineSeconds: number): V1Deployment {
  const labels = { app: w.name, 'app.kubernetes.io/part-of': 'upshift-demo' };
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: w.name, namespace: w.namespace, labels },
    spec: {
      replicas: w.replicas, progressDeadlineSeconds,
      selector: { matchLabels: { app: w.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels }, spec: { containers: [{ name: w.container, image: w.image }] } },
    },
  };
}

const clusters = new ClusterRegistry();

function clientsOf(w: SampleWorkload): ClusterClients {
  return clusters.get({ name: w.cluster, context: w.context });
}

const statusOf = (error: unknown): number | undefined => (error as { code?: number }).code;

async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.readNamespace({ name });
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    await core.createNamespace({ body: { metadata: { name } } });
  }
}

/** Creates or replaces one Deployment. */
export async function applyWorkload(w: SampleWorkload, progressDeadlineSeconds: number): Promise<void> {
  const { apps, core } = clientsOf(w);
  await ensureNamespace(core, w.namespace);
  const body = deploymentOf(w, progressDeadlineSeconds);
  try {
    const current = await apps.readNamespacedDeployment({ name: w.name, namespace: w.namespace });
    body.metadata = { ...body.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' };
    await apps.replaceNamespacedDeployment({ name: w.name, namespace: w.namespace, body });
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    await apps.createNamespacedDeployment({ namespace: w.namespace, body });
  }
}

/** What a sample runs now: the container's image and whether the Deployment is Available at its generation. */
export async function sampleAvailability(w: SampleWorkload): Promise<{ image: string | undefined; available: boolean }> {
  return workloadAvailability(clientsOf(w), { cluster: w.cluster, namespace: w.namespace, kind: 'Deployment', name: w.name, container: w.container });
}

/** Waits until the Deployment is Available (all replicas updated and ready). */
export async function waitAvailable(w: SampleWorkload, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await sampleAvailability(w)).available) {
    if (Date.now() > deadline) throw new Error(`${w.cluster} ${w.namespace}/${w.name} not available within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Puts every sample workload at its previous version and waits for all of them. */
export async function resetWorkloads(workloads: readonly SampleWorkload[], progressDeadlineSeconds = 15): Promise<void> {
  for (const w of workloads) await applyWorkload(w, progressDeadlineSeconds);
  for (const w of workloads) await waitAvailable(w);
}
