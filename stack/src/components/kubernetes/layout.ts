import { join } from 'node:path';
import { cacheDirFor, runDirFor } from '../../paths.ts';
import { ports, versions } from '../../versions.ts';

/** The component name; also the run folder and the cache prefix of the Kubernetes binaries. */
export const componentName = 'kubernetes';

/** Names of the two local clusters; each is also its kubeconfig context. */
export const clusterNames = ['upshift-a', 'upshift-b'] as const;

/** Fake nodes created in every cluster (kwok keeps them Ready). */
export const nodesPerCluster = 3;

/** The pod-template label that makes kwok keep a pod Running but never Ready (a failed rollout). */
export const failLabel = 'upshift.dev/fail';

/** Folder with the built binaries; one folder per pinned version. */
export const binaries = {
  kubernetesDir: join(cacheDirFor('kubernetes', versions.kubernetes), 'bin'),
  etcd: join(cacheDirFor('etcd', versions.etcd), 'bin', 'etcd'),
  kwok: join(cacheDirFor('kwok', versions.kwok), 'bin', 'kwok'),
} as const;

/** Path of one Kubernetes binary (kube-apiserver, kubectl, ...) of the pinned version. */
export function kubeBinary(name: string): string {
  return join(binaries.kubernetesDir, name);
}

/** The run folder of the component: one sub-folder per cluster plus the shared kubeconfig. */
export const runDir = runDirFor(componentName);

/** The kubeconfig with both contexts, exported to tests as KUBECONFIG. */
export const kubeconfigPath = join(runDir, 'kubeconfig');

/** Loopback ports of one cluster's processes. */
export interface ClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

/** Where one cluster lives: ports, folders and files. */
export interface ClusterLayout {
  name: string;
  ports: ClusterPorts;
  dir: string;
  pkiDir: string;
  etcdDataDir: string;
  /** Admin-only kubeconfig used by the cluster's own controller-manager, scheduler and kwok. */
  adminKubeconfig: string;
  tokenFile: string;
  server: string;
}

/** Ports per cluster: cluster i uses kubeBase + 10*i + 0..5. */
function clusterPorts(index: number): ClusterPorts {
  const base = ports.kubeBase + 10 * index;
  return {
    etcdClient: base,
    etcdPeer: base + 1,
    apiserver: base + 2,
    controllerManager: base + 3,
    scheduler: base + 4,
    kwok: base + 5,
  };
}

/** The layout of one named cluster. */
export function clusterLayout(name: string): ClusterLayout {
  const index = clusterNames.indexOf(name as (typeof clusterNames)[number]);
  if (index < 0) throw new Error(`kubernetes: unknown cluster ${name}`);
  const dir = join(runDir, name);
  const clusterPortSet = clusterPorts(index);
  return {
    name,
    ports: clusterPortSet,
    dir,
    pkiDir: join(dir, 'pki'),
    etcdDataDir: join(dir, 'etcd-data'),
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    tokenFile: join(dir, 'pki', 'tokens.csv'),
    server: `https://127.0.0.1:${clusterPortSet.apiserver}`,
  };
}

/** Layouts of every cluster, in order. */
export function allClusters(): ClusterLayout[] {
  return clusterNames.map((name) => clusterLayout(name));
}
