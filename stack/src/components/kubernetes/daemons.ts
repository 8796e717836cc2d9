import { join } from 'node:path';
import type { ClusterPki } from './certs.ts';
import { kwokConfigPath } from './kwok-config.ts';
import { binaries, clusterNames, kubeBinary } from './layout.ts';
import type { ClusterLayout } from './layout.ts';

/** One process of a cluster: how to start it, the ports it binds and where it says it is healthy. */
export interface ClusterDaemon {
  name: string;
  command: string;
  args: string[];
  ports: number[];
  /** HTTP(S) health URL, when the process has one. */
  healthUrl?: string;
}

function etcd(layout: ClusterLayout): ClusterDaemon {
  const client = `http://127.0.0.1:${layout.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${layout.ports.etcdPeer}`;
  return {
    name: 'etcd',
    command: binaries.etcd,
    args: [
      `--name=${layout.name}`,
      `--data-dir=${layout.etcdDataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${layout.name}=${peer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    ports: [layout.ports.etcdClient, layout.ports.etcdPeer],
    healthUrl: `${client}/health`,
  };
}

function apiserver(layout: ClusterLayout, pki: ClusterPki): ClusterDaemon {
  return {
    name: 'kube-apiserver',
    command: kubeBinary('kube-apiserver'),
    args: [
      `--etcd-servers=http://127.0.0.1:${layout.ports.etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${layout.ports.apiserver}`,
      `--cert-dir=${join(layout.dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${layout.tokenFile}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--allow-privileged=true',
      // One user on loopback: fairness queues only cost memory and CPU here.
      '--enable-priority-and-fairness=false',
      '--profiling=false',
    ],
    ports: [layout.ports.apiserver],
  };
}

/** Flags shared by the controller-manager and the scheduler: own loopback port, no leader election. */
function controlLoopFlags(layout: ClusterLayout, port: number, certDir: string): string[] {
  return [
    `--kubeconfig=${layout.adminKubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(layout.dir, certDir)}`,
    '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
    '--kube-api-qps=200',
    '--kube-api-burst=400',
  ];
}

function controllerManager(layout: ClusterLayout, pki: ClusterPki): ClusterDaemon {
  const port = layout.ports.controllerManager;
  return {
    name: 'kube-controller-manager',
    command: kubeBinary('kube-controller-manager'),
    args: [
      ...controlLoopFlags(layout, port, 'controller-manager-certs'),
      `--cluster-name=${layout.name}`,
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      '--use-service-account-credentials=false',
    ],
    ports: [port],
    healthUrl: `https://127.0.0.1:${port}/healthz`,
  };
}

function scheduler(layout: ClusterLayout): ClusterDaemon {
  const port = layout.ports.scheduler;
  return {
    name: 'kube-scheduler',
    command: kubeBinary('kube-scheduler'),
    args: controlLoopFlags(layout, port, 'scheduler-certs'),
    ports: [port],
    healthUrl: `https://127.0.0.1:${port}/healthz`,
  };
}

function kwok(layout: ClusterLayout): ClusterDaemon {
  const port = layout.ports.kwok;
  const index = clusterNames.indexOf(layout.name as (typeof clusterNames)[number]);
  return {
    name: 'kwok',
    command: binaries.kwok,
    args: [
      `--kubeconfig=${layout.adminKubeconfig}`,
      `--config=${kwokConfigPath}`,
      '--manage-all-nodes=true',
      `--server-address=127.0.0.1:${port}`,
      `--node-port=${port}`,
      '--node-ip=127.0.0.1',
      `--cidr=10.${100 + index}.0.0/16`,
      '--node-lease-duration-seconds=40',
    ],
    ports: [port],
    healthUrl: `http://127.0.0.1:${port}/healthz`,
  };
}

/** The storage and API server of a cluster, started first and in this order. */
export function coreDaemons(layout: ClusterLayout, pki: ClusterPki): ClusterDaemon[] {
  return [etcd(layout), apiserver(layout, pki)];
}

/** The control loops that act on the API server: controllers, scheduler, fake kubelets. */
export function controlLoopDaemons(layout: ClusterLayout, pki: ClusterPki): ClusterDaemon[] {
  return [controllerManager(layout, pki), scheduler(layout), kwok(layout)];
}

/** Every process name of a cluster in start order (for stop and status). */
export const daemonNames = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
