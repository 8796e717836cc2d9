/**
 * Kubernetes client factory shared by the functions and the CLI. A policy names each cluster by a
 * kubeconfig context (local) or a Secret key (in cluster); a Secret is never read through the API: it is
 * mounted as a file under UPSHIFT_CLUSTER_SECRETS_DIR/<secret>/<key>, so functions need no RBAC on
 * Secrets. The cluster credential is also the identity rollout acts as, so permission checks use it.
 */
import { join } from 'node:path';
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, Health, KubeConfig } from '@kubernetes/client-node';

/** How the policy reaches one cluster. */
export interface ClusterAccess {
  name: string;
  context?: string;
  secretRef?: { name: string; key: string };
}

/** API clients for one cluster. */
export interface ClusterClients {
  cluster: string;
  config: KubeConfig;
  apps: AppsV1Api;
  core: CoreV1Api;
  authorization: AuthorizationV1Api;
  health: Health;
}

/** Where mounted cluster Secrets live in a pod (overridable for tests). */
const secretsDir = (): string => process.env.UPSHIFT_CLUSTER_SECRETS_DIR ?? '/var/run/upshift/clusters';

/** Loads the kubeconfig for a cluster of the policy and builds its clients. */
export function clusterClients(access: ClusterAccess): ClusterClients {
  const config = new KubeConfig();
  if (access.secretRef) {
    config.loadFromFile(join(secretsDir(), access.secretRef.name, access.secretRef.key));
  } else {
    config.loadFromDefault();
    const context = access.context ?? access.name;
    if (!config.getContextObject(context)) {
      throw new Error(`kubeconfig has no context named ${context} (cluster ${access.name})`);
    }
    config.setCurrentContext(context);
  }
  return {
    cluster: access.name,
    config,
    apps: config.makeApiClient(AppsV1Api),
    core: config.makeApiClient(CoreV1Api),
    authorization: config.makeApiClient(AuthorizationV1Api),
    health: new Health(config),
  };
}

/** Clients per cluster name, built once per process for the clusters a policy names. */
export class ClusterRegistry {
  readonly #clients = new Map<string, ClusterClients>();

  /** The clients of a cluster, created on first use. */
  get(access: ClusterAccess): ClusterClients {
    const key = `${access.name}|${access.context ?? ''}|${access.secretRef?.name ?? ''}/${access.secretRef?.key ?? ''}`;
    let clients = this.#clients.get(key);
    if (!clients) {
      clients = clusterClients(access);
      this.#clients.set(key, clients);
    }
    return clients;
  }
}
