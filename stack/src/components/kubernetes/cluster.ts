import { mkdirSync } from 'node:fs';
import type { ComponentStatus } from '../../component.ts';
import { assertPortsFree, groupRssMiB, logFile, runningPid, startDaemon, stopDaemon, waitUntil } from '../../process.ts';
import { versions } from '../../versions.ts';
import { ensurePki, readPki } from './certs.ts';
import type { ClusterPki } from './certs.ts';
import { controlLoopDaemons, coreDaemons, daemonNames } from './daemons.ts';
import type { ClusterDaemon } from './daemons.ts';
import { knativeCrdNames, knativeCrdsPath } from './knative.ts';
import { applyFakeNodes, kubectl } from './kubectl.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { componentName, kubeconfigPath, nodesPerCluster } from './layout.ts';
import type { ClusterLayout } from './layout.ts';
import { apiserverReady, healthy, readyNodeCount } from './probe.ts';

const startTimeoutMs = 180_000;

/** Starts one daemon unless it runs already, after checking its ports are free. */
async function startClusterDaemon(layout: ClusterLayout, daemon: ClusterDaemon): Promise<void> {
  if (runningPid(layout.dir, daemon.name)) return;
  const label = `${componentName} ${layout.name} ${daemon.name}`;
  await assertPortsFree(label, daemon.ports);
  startDaemon({ name: daemon.name, command: daemon.command, args: daemon.args, runDir: layout.dir });
}

/** Waits for a daemon's health URL (or, without one, for the probe given). */
async function waitForDaemon(layout: ClusterLayout, daemon: ClusterDaemon, probe?: () => Promise<boolean>): Promise<void> {
  const check = probe ?? (daemon.healthUrl ? () => healthy(daemon.healthUrl ?? '') : undefined);
  if (!check) return;
  await waitUntil(`${componentName} ${layout.name} ${daemon.name}`, check, {
    timeoutMs: startTimeoutMs,
    log: logFile(layout.dir, daemon.name),
    daemon: { runDir: layout.dir, name: daemon.name },
  });
}

/** Starts a cluster's storage, API server, control loops and kwok, then its nodes and Knative CRDs. */
export async function startCluster(layout: ClusterLayout): Promise<ClusterPki> {
  mkdirSync(layout.dir, { recursive: true });
  const pki = await ensurePki(layout);
  writeKubeconfig(layout.adminKubeconfig, [{ layout, pki }]);
  const [etcd, apiserver] = coreDaemons(layout, pki);
  if (!etcd || !apiserver) throw new Error('kubernetes: core daemons missing');
  await startClusterDaemon(layout, etcd);
  await waitForDaemon(layout, etcd);
  await startClusterDaemon(layout, apiserver);
  await waitForDaemon(layout, apiserver, () => apiserverReady(layout.server, pki));
  const loops = controlLoopDaemons(layout, pki);
  for (const daemon of loops) await startClusterDaemon(layout, daemon);
  await applyFakeNodes(layout);
  await installKnativeCrds(layout);
  for (const daemon of loops) await waitForDaemon(layout, daemon);
  await waitUntil(`${componentName} ${layout.name} nodes`, async () => (await readyNodeCount(layout.server, pki)) >= nodesPerCluster, {
    timeoutMs: startTimeoutMs,
    log: logFile(layout.dir, 'kwok'),
    daemon: { runDir: layout.dir, name: 'kwok' },
  });
  return pki;
}

/** Applies the stripped Knative CRDs and waits until the API server serves them. */
async function installKnativeCrds(layout: ClusterLayout): Promise<void> {
  await kubectl(layout, ['apply', '--server-side', '--force-conflicts', '--field-manager=upshift-stack', '-f', knativeCrdsPath], 'installing Knative CRDs');
  const crds = knativeCrdNames().map((name) => `crd/${name}`);
  await kubectl(layout, ['wait', '--for=condition=Established', '--timeout=120s', ...crds], 'waiting for Knative CRDs');
}

/** Stops a cluster's processes: the control loops together, then the API server, then etcd. */
export async function stopCluster(layout: ClusterLayout): Promise<void> {
  const stop = (name: string) => stopDaemon(layout.dir, name, { graceMs: 15_000 });
  await Promise.all(['kwok', 'kube-scheduler', 'kube-controller-manager'].map(stop));
  await stop('kube-apiserver');
  await stop('etcd');
}

/** Writes the shared kubeconfig with one context per cluster. */
export function writeSharedKubeconfig(clusters: { layout: ClusterLayout; pki: ClusterPki }[]): void {
  writeKubeconfig(kubeconfigPath, clusters);
}

/** One status row for a cluster: ready when every process runs and the API server is ready. */
export async function clusterStatus(layout: ClusterLayout): Promise<ComponentStatus> {
  const pids = daemonNames.map((name) => runningPid(layout.dir, name)).filter((pid): pid is number => pid !== undefined);
  const pki = readPki(layout);
  const ready = pids.length === daemonNames.length && pki !== undefined && (await apiserverReady(layout.server, pki).catch(() => false));
  return {
    name: `k8s/${layout.name}`,
    version: versions.kubernetes,
    state: ready ? 'ready' : pids.length > 0 ? 'not-ready' : 'stopped',
    endpoints: { apiserver: layout.server, etcd: `http://127.0.0.1:${layout.ports.etcdClient}` },
    pids,
    ...(pids.length > 0 ? { rssMiB: groupRssMiB(pids) } : {}),
    log: logFile(layout.dir, 'kube-apiserver'),
    details: {
      context: layout.name,
      kubeconfig: kubeconfigPath,
      logs: layout.dir,
      running: daemonNames.filter((name) => runningPid(layout.dir, name) !== undefined),
      etcd: versions.etcd,
      kwok: versions.kwok,
      ports: layout.ports,
    },
  };
}
