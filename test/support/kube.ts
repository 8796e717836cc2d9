/**
 * Kubernetes test support on the stack's two clusters: a fresh namespace per test in both clusters,
 * sample Deployments/StatefulSets, and reads of what actually runs.
 */
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { apiClientMaker } from '@upshift/workloads';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The stack's cluster (context) names. */
export const clusterNames = ['upshift-a', 'upshift-b'] as const;

/** Clients of one kubeconfig context. */
export interface Kube { config: KubeConfig; apps: AppsV1Api; core: CoreV1Api; rbac: RbacAuthorizationV1Api; authorization: AuthorizationV1Api }

const kubes = new Map<string, Kube>();

/**
 * Clients for one context of $KUBECONFIG, made once per (file, context) so that a test's requests share
 * their connections as upshift's do (see apiClientMaker) instead of a TLS handshake each.
 */
export function kube(context: string): Kube {
  const key = `${process.env.KUBECONFIG ?? ''}|${context}`;
  let clients = kubes.get(key);
  if (!clients) {
    const config = new KubeConfig();
    config.loadFromDefault();
    config.setCurrentContext(context);
    const makeClient = apiClientMaker(config);
    clients = {
      config, apps: makeClient(AppsV1Api), core: makeClient(CoreV1Api), rbac: makeClient(RbacAuthorizationV1Api), authorization: makeClient(AuthorizationV1Api),
    };
    kubes.set(key, clients);
  }
  return clients;
}

/** A namespace created in every cluster, with a delete. */
export async function freshNamespace(prefix = 'it'): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  for (const cluster of clusterNames) await kube(cluster).core.createNamespace({ body: { metadata: { name } } });
  return {
    name,
    remove: async () => {
      for (const cluster of clusterNames) await kube(cluster).core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

/** A Deployment of `replicas` pods running `image` in container `app`; `fail` adds the stack's failure label. */
export function deployment(name: string, image: string, options: { replicas?: number; fail?: boolean; progressDeadlineSeconds?: number } = {}): V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: options.replicas ?? 2,
      progressDeadlineSeconds: options.progressDeadlineSeconds ?? 15,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { ...labels, ...(options.fail ? { 'upshift.dev/fail': 'true' } : {}) } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  };
}

/** Creates Deployments in one cluster and waits until each is Available. */
export async function deploy(cluster: string, namespace: string, deployments: V1Deployment[]): Promise<void> {
  const { apps } = kube(cluster);
  for (const body of deployments) await apps.createNamespacedDeployment({ namespace, body });
  for (const body of deployments) await waitAvailable(cluster, namespace, body.metadata?.name ?? '');
}

/** Waits until a Deployment has all replicas updated and available at its current generation. */
export async function waitAvailable(cluster: string, namespace: string, name: string, timeoutMs = 60_000): Promise<V1Deployment> {
  const { apps } = kube(cluster);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const want = d.spec?.replicas ?? 1;
    const s = d.status;
    if ((s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && s?.updatedReplicas === want && s?.availableReplicas === want && (s?.replicas ?? 0) === want) return d;
    if (Date.now() > deadline) throw new Error(`${cluster} ${namespace}/${name} not available in ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What a Deployment runs now: its container image, generation and the annotations upshift leaves. */
export async function running(cluster: string, namespace: string, name: string) {
  const d = await kube(cluster).apps.readNamespacedDeployment({ name, namespace });
  return {
    image: d.spec?.template.spec?.containers[0]?.image,
    generation: d.metadata?.generation ?? 0,
    annotations: d.metadata?.annotations ?? {},
  };
}

/**
 * Points $KUBECONFIG (of this process, so functions running inline see it too) at a private copy of the
 * stack's kubeconfig that tests can add contexts to. Call before starting the functions. `remove` deletes
 * the copy and points $KUBECONFIG back where it was (`npm run bench` runs several benches in one process:
 * the next one's copy is made from the stack's kubeconfig, not from a removed file).
 */
export function privateKubeconfig(): { file: string; remove: () => void } {
  const config = new KubeConfig();
  config.loadFromDefault();
  const file = join(tmpdir(), `upshift-test-kubeconfig-${process.pid}-${randomBytes(3).toString('hex')}.yaml`);
  writeFileSync(file, config.exportConfig(), { mode: 0o600 });
  const previous = process.env.KUBECONFIG;
  process.env.KUBECONFIG = file;
  return {
    file,
    remove: () => {
      rmSync(file, { force: true });
      if (process.env.KUBECONFIG !== file) return;
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    },
  };
}

function addContext(name: string, cluster: { server: string; caData?: string; skipTLSVerify?: boolean }, token: string): void {
  const file = process.env.KUBECONFIG ?? '';
  const config = new KubeConfig();
  config.loadFromFile(file);
  config.addCluster({ name, server: cluster.server, caData: cluster.caData, skipTLSVerify: cluster.skipTLSVerify ?? false });
  config.addUser({ name, token });
  config.addContext({ name, cluster: name, user: name });
  writeFileSync(file, config.exportConfig(), { mode: 0o600 });
}

/**
 * A context for `cluster` whose credential is a ServiceAccount of `namespace` that may get and list
 * Deployments but not patch them: what preflight must refuse.
 */
export async function limitedContext(cluster: string, namespace: string): Promise<string> {
  const { core, rbac, config } = kube(cluster);
  const name = 'limited';
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] }] } });
  await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ kind: 'ServiceAccount', name, namespace }] } });
  const token = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const current = config.getCurrentCluster();
  if (!current || !token.status?.token) throw new Error(`no cluster or token for ${cluster}`);
  const context = `limited-${namespace}`;
  addContext(context, { server: current.server, ...(current.caData ? { caData: current.caData } : {}), skipTLSVerify: current.skipTLSVerify }, token.status.token);
  return context;
}

/** A context whose API server does not answer (a free loopback port): a stopped cluster. */
export async function unreachableContext(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const context = `gone-${port}`;
  addContext(context, { server: `https://127.0.0.1:${port}`, skipTLSVerify: true }, 'unused');
  return context;
}

/**
 * A context named `name` for `cluster` whose API server is reached through `port` on loopback (a
 * {@link startTcpProxy} in front of it), with the cluster's own CA and credentials.
 */
export function proxiedContext(cluster: string, name: string, port: number): string {
  const file = process.env.KUBECONFIG ?? '';
  const config = new KubeConfig();
  config.loadFromFile(file);
  const context = config.getContextObject(cluster);
  const target = config.getCluster(context?.cluster ?? '');
  if (!context || !target) throw new Error(`kubeconfig has no context or cluster ${cluster}`);
  config.addCluster({ ...target, name, server: `https://127.0.0.1:${port}` });
  config.addContext({ name, cluster: name, user: context.user });
  writeFileSync(file, config.exportConfig(), { mode: 0o600 });
  return name;
}

/** The host and port of a context's API server. */
export function apiServerOf(context: string): { host: string; port: number } {
  const url = new URL(kube(context).config.getCurrentCluster()?.server ?? '');
  return { host: url.hostname, port: Number(url.port || 443) };
}
