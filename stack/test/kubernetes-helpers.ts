import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { V1Deployment } from '@kubernetes/client-node';
import { apiClientMaker } from '@upshift/workloads';

const execFileAsync = promisify(execFile);

/** The contexts the stack's kubeconfig must have. */
export const contexts = (process.env.UPSHIFT_KUBE_CONTEXTS ?? 'upshift-a,upshift-b').split(',');

/** API clients bound to one kubeconfig context. */
export interface ClusterClients {
  context: string;
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  rbac: RbacAuthorizationV1Api;
  authz: AuthorizationV1Api;
}

/** Clients for a context of KUBECONFIG (set by `eval "$(node stack/src/cli.ts env)"`). */
export function clientsFor(context: string): ClusterClients {
  if (!process.env.KUBECONFIG) throw new Error('KUBECONFIG is not set; run eval "$(node stack/src/cli.ts env)" first');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  kubeConfig.setCurrentContext(context);
  return clientsFromConfig(context, kubeConfig);
}

/** Clients for an already loaded kubeconfig, sharing their connections as upshift's cluster clients do. */
export function clientsFromConfig(context: string, kubeConfig: KubeConfig): ClusterClients {
  const makeClient = apiClientMaker(kubeConfig);
  return {
    context,
    kubeConfig,
    core: makeClient(CoreV1Api),
    apps: makeClient(AppsV1Api),
    rbac: makeClient(RbacAuthorizationV1Api),
    authz: makeClient(AuthorizationV1Api),
  };
}

/** A fresh namespace name, unique per run so reruns never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates a namespace and waits for its default ServiceAccount (pods are refused until the controller-manager
 * creates it); returns the name. deleteNamespace removes it without waiting.
 */
export async function createNamespace(clients: ClusterClients, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await clients.core.createNamespace({ body: { metadata: { name, labels: { 'upshift.dev/test': 'stack' } } } });
  await eventually(`${clients.context} ${name}/default ServiceAccount`, () => clients.core.readNamespacedServiceAccount({ name: 'default', namespace: name }), 30_000);
  return name;
}

/** Deletes a namespace in the background (kwok deletes its pods at once). */
export async function deleteNamespace(clients: ClusterClients, name: string): Promise<void> {
  await clients.core.deleteNamespace({ name }).catch(() => undefined);
}

/** Polls until `check` returns a value (not undefined) or the timeout passes, then fails with the last state. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}

/** A Deployment of fake pods (kwok never pulls images) with optional template labels. */
export function deployment(name: string, image: string, opts: { replicas?: number; progressDeadlineSeconds?: number; labels?: Record<string, string> } = {}): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: opts.replicas ?? 3,
      ...(opts.progressDeadlineSeconds ? { progressDeadlineSeconds: opts.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...opts.labels } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  };
}

/** The `kubectl rollout status` verdict: the controller saw the latest spec and every replica is new and available. */
export function rolledOut(d: V1Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status;
  return (
    s !== undefined &&
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    s.updatedReplicas === want &&
    s.replicas === want &&
    s.availableReplicas === want
  );
}

/** A condition of a Deployment by type. */
export function condition(d: V1Deployment, type: string): { status: string; reason?: string } | undefined {
  return d.status?.conditions?.find((c) => c.type === type);
}

/** Runs the stack's kubectl (UPSHIFT_KUBECTL) against a context; resolves with exit code and output. */
export async function kubectl(context: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const binary = process.env.UPSHIFT_KUBECTL ?? 'kubectl';
  try {
    const { stdout, stderr } = await execFileAsync(binary, [`--context=${context}`, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : 1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? String(error) };
  }
}
