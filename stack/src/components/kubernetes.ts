import type { Component, ComponentStatus } from '../component.ts';
import { versions } from '../versions.ts';
import { buildAll } from './kubernetes/build.ts';
import { clusterStatus, startCluster, stopCluster, writeSharedKubeconfig } from './kubernetes/cluster.ts';
import { ensureKnativeCrds } from './kubernetes/knative.ts';
import { ensureKwokConfig } from './kubernetes/kwok-config.ts';
import { allClusters, clusterNames, componentName, kubeBinary, kubeconfigPath } from './kubernetes/layout.ts';

/**
 * Two local Kubernetes clusters (upshift-a, upshift-b): etcd, kube-apiserver, controller-manager,
 * scheduler and kwok each, three fake nodes, Knative CRDs; one kubeconfig with a context per cluster.
 */
export const kubernetes: Component = {
  name: componentName,
  version: versions.kubernetes,
  externalEnv: 'KUBECONFIG',

  async install() {
    await buildAll();
    await ensureKwokConfig();
    await ensureKnativeCrds();
  },

  async start() {
    const layouts = allClusters();
    // Both clusters start together; a failure in one is reported after the other has settled.
    const results = await Promise.allSettled(layouts.map((layout) => startCluster(layout)));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    writeSharedKubeconfig(layouts.map((layout, i) => {
      const result = results[i];
      return { layout, pki: result?.status === 'fulfilled' ? result.value : fail(layout.name) };
    }));
  },

  async stop() {
    await Promise.all(allClusters().map((layout) => stopCluster(layout)));
  },

  async status(): Promise<ComponentStatus[]> {
    return Promise.all(allClusters().map((layout) => clusterStatus(layout)));
  },

  env() {
    return {
      KUBECONFIG: kubeconfigPath,
      UPSHIFT_KUBE_CONTEXTS: clusterNames.join(','),
      UPSHIFT_KUBECTL: kubeBinary('kubectl'),
    };
  },
};

function fail(cluster: string): never {
  throw new Error(`kubernetes: ${cluster} started without key material`);
}
