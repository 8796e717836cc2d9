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
  KAFKA_AUTH_SECRET, KAFKA_CA_DIR, NAMESPACE, STORE_CONNECTIONS_SECRET,
} from './spec.ts';
import type { FunctionDeployment } from './spec.ts';
import type { Install } from './install.ts';
import { KAFKA_AUTH_KEYS } from './kafka-auth.ts';
import { clusterCredentialsSecret, literalEnv, storeConnectionKeys } from './service.ts';

/** The Broker func subscriptions attach Triggers to (fed from the work topics: knative/func-broker/). */
export const FUNC_BROKER = 'upshift';

/** func has no optional Secret keys: the SASL variables are there only when the install turns SASL on. */
function kafkaEnvs(install: Install) {
  if (!install.settings.kafka.sasl) return [];
  const key = (name: string, secretKey: string) => ({ name, value: `{{ secret:${KAFKA_AUTH_SECRET}:${secretKey} }}` });
  return [key('KAFKA_SASL_MECHANISM', KAFKA_AUTH_KEYS.mechanism), key('KAFKA_SASL_USERNAME', KAFKA_AUTH_KEYS.user), key('KAFKA_SASL_PASSWORD', KAFKA_AUTH_KEYS.password)];
}

function envs(fn: FunctionDeployment, install: Install) {
  return [
    ...Object.entries(literalEnv(fn, install)).map(([name, value]) => ({ name, value })),
    { name: 'DATABASE_URL', value: `{{ secret:${CONTROL_STORE_SECRET}:DATABASE_URL }}` },
    { value: `{{ configMap:${CONFIG_MAP} }}` },
    ...storeConnectionKeys(fn, install).map(({ name, key }) => ({ name, value: `{{ secret:${STORE_CONNECTIONS_SECRET}:${key} }}` })),
    ...kafkaEnvs(install),
  ];
}

/** func mounts a whole Secret (no items): the CA volume carries every key of upshift-kafka-auth. */
function volumes(fn: FunctionDeployment, install: Install) {
  const { tls, caCert } = install.settings.kafka;
  return [
    ...(fn.mountsCatalog ? [{ configMap: CATALOG_CONFIG_MAP, path: CATALOG_DIR }] : []),
    ...(fn.reachesClusters ? [{ secret: clusterCredentialsSecret(fn), path: `${CLUSTER_SECRETS_DIR}/${CLUSTERS_SECRET_REF}` }] : []),
    ...(tls && caCert ? [{ secret: KAFKA_AUTH_SECRET, path: KAFKA_CA_DIR }] : []),
  ];
}

/** The func.yaml document of a function. */
export function funcYaml(fn: FunctionDeployment, install: Install) {
  return {
    specVersion: '0.36.0',
    name: fn.resourceName,
    runtime: 'typescript',
    created: '2026-11-23T00:00:00Z',
    invoke: 'cloudevent',
    run: { envs: envs(fn, install), volumes: volumes(fn, install) },
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
