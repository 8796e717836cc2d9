/**
 * The Knative Service of a function: the image placeholder kustomize `images:` replaces, env from the
 * shared ConfigMap and Secrets, probes on the runtime's health paths, resources, autoscaling, and a
 * hardened security context (non-root, read-only root filesystem, no capabilities).
 */
import {
  CATALOG_CONFIG_MAP, CATALOG_DIR, CLUSTER_SECRETS_DIR, CLUSTERS_SECRET_REF, CONFIG_MAP, CONTROL_STORE_SECRET,
  READ_ONLY_SUFFIX, STORE_CONNECTIONS_SECRET,
} from './spec.ts';
import type { FunctionDeployment } from './spec.ts';
import type { Install } from './install.ts';
import { kafkaCaVolume, kafkaLiteralEnv, kafkaSecretEnv } from './kafka-auth.ts';

/** Labels every upshift object carries. */
export function labelsOf(component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'upshift', 'app.kubernetes.io/part-of': 'upshift', 'app.kubernetes.io/component': component };
}

/** The image placeholder of a function; kustomize `images:` (name `upshift-<fn>`) sets the real one. */
export function imagePlaceholder(fn: FunctionDeployment): string {
  return fn.resourceName;
}

/** Name of the Secret holding a function's own kubeconfigs (one key per cluster). */
export function clusterCredentialsSecret(fn: FunctionDeployment): string {
  return `upshift-clusters-${fn.name}`;
}

/**
 * Literal env of the container, including what the runtime needs to serve in a pod: the install's
 * Kafka TLS settings, and for plan the namespaces it may plan for (UPSHIFT_NAMESPACES).
 */
export function literalEnv(fn: FunctionDeployment, install: Install): Record<string, string> {
  return {
    UPSHIFT_FUNCTION: fn.name,
    OTEL_SERVICE_NAME: fn.name,
    HOST: '0.0.0.0',
    ...(fn.reachesClusters ? { UPSHIFT_CLUSTER_SECRETS_DIR: CLUSTER_SECRETS_DIR } : {}),
    ...(fn.checksNamespaces ? { UPSHIFT_NAMESPACES: install.settings.targetNamespaces.join(',') } : {}),
    ...kafkaLiteralEnv(install.settings.kafka),
    ...fn.env,
  };
}

/**
 * The store connections of a function: each connection variable of the catalog from its own key of the
 * Secret, `<VAR>_READONLY` for read-only access, `<VAR>` for read-write; [] for none. Optional, as
 * before: a connection no policy uses need not exist (plan's preflight names a missing one).
 */
export function storeConnectionKeys(fn: FunctionDeployment, install: Install): { name: string; key: string }[] {
  if (fn.storeAccess === 'none') return [];
  const suffix = fn.storeAccess === 'read-only' ? READ_ONLY_SUFFIX : '';
  return install.connections.map((name) => ({ name, key: `${name}${suffix}` }));
}

function env(fn: FunctionDeployment, install: Install) {
  return [
    ...Object.entries(literalEnv(fn, install)).map(([name, value]) => ({ name, value })),
    { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: CONTROL_STORE_SECRET, key: 'DATABASE_URL' } } },
    ...storeConnectionKeys(fn, install).map(({ name, key }) => ({ name, valueFrom: { secretKeyRef: { name: STORE_CONNECTIONS_SECRET, key, optional: true } } })),
    ...kafkaSecretEnv(),
  ];
}

function volumes(fn: FunctionDeployment, install: Install) {
  const mounts: { name: string; mountPath: string; readOnly: true }[] = [];
  const sources: Record<string, unknown>[] = [];
  if (fn.mountsCatalog) {
    mounts.push({ name: 'catalog', mountPath: CATALOG_DIR, readOnly: true });
    const items = install.catalog.map(({ key, fileName }) => ({ key, path: fileName }));
    sources.push({ name: 'catalog', configMap: { name: CATALOG_CONFIG_MAP, items } });
  }
  if (fn.reachesClusters) {
    mounts.push({ name: 'clusters', mountPath: `${CLUSTER_SECRETS_DIR}/${CLUSTERS_SECRET_REF}`, readOnly: true });
    sources.push({ name: 'clusters', secret: { secretName: clusterCredentialsSecret(fn) } });
  }
  const ca = kafkaCaVolume(install.settings.kafka);
  if (ca) {
    mounts.push(ca.mount);
    sources.push(ca.volume);
  }
  return { mounts, sources };
}

const securityContext = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

function container(fn: FunctionDeployment, install: Install) {
  const { mounts } = volumes(fn, install);
  return {
    name: 'function',
    image: imagePlaceholder(fn),
    ports: [{ name: 'http1', containerPort: 8080 }],
    env: env(fn, install),
    envFrom: [{ configMapRef: { name: CONFIG_MAP } }],
    readinessProbe: { httpGet: { path: '/health/readiness' }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/health/liveness' }, periodSeconds: 10, failureThreshold: 6 },
    resources: fn.resources,
    securityContext,
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
  };
}

/** Autoscaling annotations: min 1 keeps the outbox relay running; max = work-topic partitions. */
export function scalingAnnotations(fn: FunctionDeployment): Record<string, string> {
  return {
    'autoscaling.knative.dev/min-scale': String(fn.scaling.minScale),
    'autoscaling.knative.dev/max-scale': String(fn.scaling.maxScale),
    'autoscaling.knative.dev/metric': 'concurrency',
    'autoscaling.knative.dev/target': String(fn.scaling.containerConcurrency),
  };
}

/**
 * Where an annotation-driven Prometheus scrapes a function pod: the function's own port (the host serves
 * /metrics beside the CloudEvents), not the queue-proxy's. knative/monitoring has the ServiceMonitor.
 */
export const prometheusAnnotations = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' } as const;

/** The serving.knative.dev/v1 Service of a function (cluster-local: only its KafkaSource calls it). */
export function knativeService(fn: FunctionDeployment, install: Install) {
  const { sources } = volumes(fn, install);
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: {
      name: fn.resourceName,
      labels: { ...labelsOf(fn.name), 'networking.knative.dev/visibility': 'cluster-local' },
      annotations: { 'upshift.dev/description': fn.description },
    },
    spec: {
      template: {
        metadata: { labels: labelsOf(fn.name), annotations: { ...scalingAnnotations(fn), ...prometheusAnnotations } },
        spec: {
          serviceAccountName: fn.resourceName,
          containerConcurrency: fn.scaling.containerConcurrency,
          timeoutSeconds: fn.scaling.timeoutSeconds,
          containers: [container(fn, install)],
          ...(sources.length > 0 ? { volumes: sources } : {}),
        },
      },
    },
  };
}
