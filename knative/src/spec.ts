/**
 * What each function needs in a cluster, in one table: its routes (from the events catalogue),
 * scaling, resources, the Secrets and volumes it mounts, and its Kubernetes rights in target clusters.
 * Every manifest, func.yaml and the RBAC test derive from this table and the catalogue. How events
 * are delivered — concurrency and timeout per instance, the retry policy — comes from the runtime's
 * delivery policy (`@upshift/runtime/delivery`), which `upshift dev`'s dispatcher reads as well.
 */
import { DEAD_LETTER_TOPIC, FunctionName, routesFor, topics } from '@upshift/events/contract';
import type { Topic } from '@upshift/events/contract';
import { CONCURRENCY_VARIABLE, functionLimits } from '@upshift/runtime/delivery';

/** The namespace of the base; overlays change it. */
export const NAMESPACE = 'upshift';
/** The KafkaSink every KafkaSource dead-letters to. */
export const DEAD_LETTER_SINK = 'upshift-dead-letter';
/** ConfigMap of non-secret settings shared by every function (KAFKA_BROKERS, LOG_LEVEL, ...). */
export const CONFIG_MAP = 'upshift-config';
/** ConfigMap holding the migration catalog files. */
export const CATALOG_CONFIG_MAP = 'upshift-catalog';
/** Secret with the control store URL under key DATABASE_URL. */
export const CONTROL_STORE_SECRET = 'upshift-control-store';
/**
 * Secret with two keys per connection variable of the catalog: `SHOP_DATABASE_URL` (read-write, for
 * migrate-shard only) and `SHOP_DATABASE_URL_READONLY` (a read-only role, for plan and verify).
 */
export const STORE_CONNECTIONS_SECRET = 'upshift-store-connections';
/** Suffix of the read-only key of a connection variable in the store connections Secret. */
export const READ_ONLY_SUFFIX = '_READONLY';
/** Secret with the Kafka credentials (keys protocol, sasl.mechanism, user, password, ca.crt), as Knative's KafkaSink expects them. */
export const KAFKA_AUTH_SECRET = 'upshift-kafka-auth';
/** Where a function mounts the Kafka CA (the Secret's ca.crt), when the install trusts a private CA. */
export const KAFKA_CA_DIR = '/var/run/upshift/kafka';
/** Where the catalog is mounted. */
export const CATALOG_DIR = '/etc/upshift/catalog';
/** Root of mounted cluster kubeconfig Secrets (workloads/src/clusters.ts: <dir>/<secret>/<key>). */
export const CLUSTER_SECRETS_DIR = '/var/run/upshift/clusters';
/** The Secret name a policy's `secretRef.name` uses; each function mounts its own credential there. */
export const CLUSTERS_SECRET_REF = 'upshift-clusters';
/** Placeholder bootstrap servers; overlays patch them. */
export const PLACEHOLDER_BROKERS = 'my-cluster-kafka-bootstrap.kafka:9092';

/** One RBAC rule (rbac.authorization.k8s.io/v1 PolicyRule). */
export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** Container resources. */
export interface Resources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Knative scaling of one function. */
export interface Scaling {
  readonly minScale: number;
  readonly maxScale: number;
  /** Hard limit of concurrent requests per pod (containerConcurrency): `functionLimits`. */
  readonly containerConcurrency: number;
  /** Request timeout (ksvc timeoutSeconds, KafkaSource delivery timeout): `functionLimits`. */
  readonly timeoutSeconds: number;
}

/** Everything the generator needs to know about one function. */
export interface FunctionDeployment {
  readonly name: FunctionName;
  /** Resource name of the ksvc, ServiceAccount, KafkaSource, ClusterRole: `upshift-<fn>`. */
  readonly resourceName: string;
  readonly description: string;
  readonly topics: readonly Topic[];
  readonly types: readonly string[];
  readonly scaling: Scaling;
  readonly resources: Resources;
  /** Literal env of the container beyond the shared ConfigMap. */
  readonly env: Readonly<Record<string, string>>;
  readonly mountsCatalog: boolean;
  /** Rejects a policy naming a namespace outside the install's list (gets UPSHIFT_NAMESPACES). */
  readonly checksNamespaces: boolean;
  /** Reaches Kubernetes clusters (mounts its own cluster credentials Secret). */
  readonly reachesClusters: boolean;
  /**
   * How it opens the data stores the catalog names: `read-only` gets each connection variable from its
   * `_READONLY` key, `read-write` from the read-write key, `none` gets no store connection at all.
   */
  readonly storeAccess: 'none' | 'read-only' | 'read-write';
  /** Rights its credential needs in each target namespace (RoleBindings there only); empty: none. */
  readonly targetRules: readonly Rule[];
  /** Rights on cluster-scoped resources (a ClusterRoleBinding); never workloads. */
  readonly clusterRules: readonly Rule[];
}

const readWorkloads: readonly Rule[] = [
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'replicasets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
];

/** plan checks rollout's rights with a SubjectAccessReview naming rollout's identity (cluster-scoped, create only). */
const accessReview: Rule = { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] };

const rolloutRules: readonly Rule[] = [
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
];

const small: Resources = { requests: { cpu: '100m', memory: '160Mi' }, limits: { cpu: '1', memory: '320Mi' } };

/** Max scale of a function: the partitions of its work topic (ordered delivery: one in-flight event each). */
function partitionsOf(fn: FunctionName): number {
  return topics.find((t) => t.topic === `upshift.${fn}`)?.partitions ?? 1;
}

/** Min 1 keeps the outbox relay running; max one pod per partition; per pod, the function's delivery limits. */
function scalingOf(fn: FunctionName): Scaling {
  const { containerConcurrency, timeoutSeconds } = functionLimits[fn];
  return { minScale: 1, maxScale: partitionsOf(fn), containerConcurrency, timeoutSeconds };
}

type DeploymentFields = Omit<FunctionDeployment, 'name' | 'resourceName' | 'topics' | 'types' | 'scaling'>;

/**
 * A function's entry: routes from the catalogue, scaling from its delivery limits, and its
 * concurrency in the env (UPSHIFT_CONTAINER_CONCURRENCY), as `upshift dev` gives it too.
 */
function deployment(name: FunctionName, rest: DeploymentFields): FunctionDeployment {
  const routes = routesFor(name);
  const scaling = scalingOf(name);
  const env = { ...rest.env, [CONCURRENCY_VARIABLE]: String(scaling.containerConcurrency) };
  return Object.freeze({ name, resourceName: `upshift-${name}`, topics: routes.topics, types: routes.types, ...rest, scaling, env });
}

/** The four functions, in flow order. */
export const deployments: readonly FunctionDeployment[] = Object.freeze([
  deployment('plan', {
    description: 'Validates a request, reads clusters and stores (read-only), persists the plan, emits the first stage.',
    resources: small,
    env: { UPSHIFT_CATALOG_DIR: CATALOG_DIR, UPSHIFT_ROLLOUT_IDENTITY: `system:serviceaccount:${NAMESPACE}:upshift-rollout` },
    mountsCatalog: true, checksNamespaces: true, reachesClusters: true, storeAccess: 'read-only',
    targetRules: readWorkloads, clusterRules: [accessReview],
  }),
  deployment('rollout', {
    description: 'Patches one wave of images, watches it without blocking, emits the next stage or reverts.',
    resources: small,
    env: { UPSHIFT_ROLLOUT_MAX_WAIT_MS: '5000' },
    mountsCatalog: false, checksNamespaces: false, reachesClusters: true, storeAccess: 'none',
    targetRules: rolloutRules, clusterRules: [],
  }),
  deployment('migrate-shard', {
    description: 'Migrates one shard per event (database-bound: one shard per pod), expand/contract DDL, restores.',
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    env: { UPSHIFT_CATALOG_DIR: CATALOG_DIR },
    mountsCatalog: true, checksNamespaces: false, reachesClusters: false, storeAccess: 'read-write',
    targetRules: [], clusterRules: [],
  }),
  deployment('verify', {
    description: 'Counts final shards (fan-in), checks workloads, data and invariants; completes or starts rollback.',
    resources: small,
    env: { UPSHIFT_CATALOG_DIR: CATALOG_DIR },
    mountsCatalog: true, checksNamespaces: false, reachesClusters: true, storeAccess: 'read-only',
    targetRules: readWorkloads, clusterRules: [],
  }),
]);

/** The deployment entry of a function. */
export function deploymentOf(name: FunctionName): FunctionDeployment {
  const found = deployments.find((d) => d.name === name);
  if (!found) throw new Error(`no deployment for ${name}`);
  return found;
}

/** Partitions of the dead-letter topic (KafkaSink creates it if missing). */
export const deadLetterPartitions = topics.find((t) => t.topic === DEAD_LETTER_TOPIC)?.partitions ?? 3;

/** Every function name (re-exported for tests). */
export const functionNames: readonly FunctionName[] = FunctionName.options;
