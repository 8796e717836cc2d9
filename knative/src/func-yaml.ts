/**
 * functions/<fn>/func.yaml for `func deploy` (knative/func schema, specVersion 0.36.0). What func reads:
 * name, namespace, run.envs and run.volumes (the same Secrets and ConfigMaps as the kustomize base),
 * deploy.* (service account, scaling, resources, health paths) and deploy.subscriptions, from which it
 * creates one Trigger per consumed CloudEvents type on the `upshift` Broker. It cannot build these
 * functions (workspace dependencies), so deploy an image built from the root Dockerfile:
 * `func deploy --build=false --image <registry>/upshift-<fn>:<tag>`.
 */
import {
  CATALOG_CONFIG_MAP, CATALOG_DIR, CLUSTER_SECRETS_DIR, CLUSTERS_SECRET_REF, CONFIG_MAP, CONTROL_STORE_SECRET,
  NAMESPACE, STORE_CONNECTIONS_SECRET,
} from './spec.ts';
import type { FunctionDeployment } from './spec.ts';
import { clusterCredentialsSecret, literalEnv } from './service.ts';

/** The Broker func subscriptions attach Triggers to (fed from the work topics: knative/func-broker/). */
export const FUNC_BROKER = 'upshift';

function envs(fn: FunctionDeployment) {
  return [
    ...Object.entries(literalEnv(fn)).map(([name, value]) => ({ name, value })),
    { name: 'DATABASE_URL', value: `{{ secret:${CONTROL_STORE_SECRET}:DATABASE_URL }}` },
    { value: `{{ configMap:${CONFIG_MAP} }}` },
    ...(fn.readsStores ? [{ value: `{{ secret:${STORE_CONNECTIONS_SECRET} }}` }] : []),
  ];
}

function volumes(fn: FunctionDeployment) {
  return [
    ...(fn.mountsCatalog ? [{ configMap: CATALOG_CONFIG_MAP, path: CATALOG_DIR }] : []),
    ...(fn.reachesClusters ? [{ secret: clusterCredentialsSecret(fn), path: `${CLUSTER_SECRETS_DIR}/${CLUSTERS_SECRET_REF}` }] : []),
  ];
}

/** The func.yaml document of a function. */
export function funcYaml(fn: FunctionDeployment) {
  return {
    specVersion: '0.36.0',
    name: fn.resourceName,
    runtime: 'typescript',
    created: '2026-11-23T00:00:00Z',
    invoke: 'cloudevent',
    run: { envs: envs(fn), volumes: volumes(fn) },
    deploy: {
      namespace: NAMESPACE,
      serviceAccountName: fn.resourceName,
      options: {
        scale: { min: fn.scaling.minScale, max: fn.scaling.maxScale, metric: 'concurrency', target: fn.scaling.containerConcurrency },
        resources: { requests: fn.resources.requests, limits: { ...fn.resources.limits, concurrency: fn.scaling.containerConcurrency } },
      },
      healthEndpoints: { liveness: '/health/liveness', readiness: '/health/readiness' },
      subscriptions: fn.types.map((type) => ({ source: FUNC_BROKER, filters: { type } })),
    },
  };
}
