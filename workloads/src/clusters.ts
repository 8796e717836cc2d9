/**
 * Kubernetes client factory shared by the functions and the CLI. A policy names each cluster by a
 * kubeconfig context (local) or a Secret key (in cluster); a Secret is never read through the API: it is
 * mounted as a file under UPSHIFT_CLUSTER_SECRETS_DIR/<secret>/<key>, so functions need no RBAC on
 * Secrets. The cluster credential is also the identity rollout acts as, so permission checks use it.
 */
import { join } from 'node:path';
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, createConfiguration, Health, KubeConfig, ServerConfiguration, type RequestContext } from '@kubernetes/client-node';

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

/**
 * How long one API request may take before it counts as unanswered (UPSHIFT_KUBE_REQUEST_TIMEOUT_MS,
 * default 10 s): a cluster that stops answering must not hold a handler forever.
 */
const requestTimeoutMs = (): number => Number(process.env.UPSHIFT_KUBE_REQUEST_TIMEOUT_MS ?? '') || 10_000;

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * Keeps the connections of one cluster's clients. client-node 2 builds a new undici Agent from the
 * kubeconfig's TLS settings for every request, so none is reused: each request paid a TCP and TLS
 * handshake (about 3× the time of a read on a kwok API server) and left its socket open until keep-alive
 * ran out. The first request's Agent (same cluster, same credentials) serves every later one, as
 * client-node 1's agent cache did.
 */
function connectionKeeper(): (request: RequestContext) => void {
  let dispatcher: Dispatcher | undefined;
  return (request) => {
    dispatcher ??= request.getDispatcher();
    if (dispatcher) request.setDispatcher(dispatcher);
  };
}

/** A generated API class of client-node (`CoreV1Api`, `AppsV1Api`, …). */
export type ApiClass<T> = new (configuration: ReturnType<typeof createConfiguration>) => T;

/**
 * What `config.makeApiClient` is for `config`'s current cluster, except that every client it makes sends
 * its requests over the connections of that one cluster (the first request's Agent) and aborts each after
 * the request timeout. Cluster clients are made by it; so are tests' and benchmarks' clients, so they pay
 * the same connections as upshift does.
 */
export function apiClientMaker(config: KubeConfig): <T>(api: ApiClass<T>) => T {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const keep = connectionKeeper();
  return (api) => {
    const timeoutMs = requestTimeoutMs();
    return new api(createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: config },
      promiseMiddleware: [{
        pre: (request: RequestContext) => {
          keep(request); // runs after the kubeconfig set this request's credentials and Agent
          request.setSignal(AbortSignal.timeout(timeoutMs));
          return Promise.resolve(request);
        },
        post: (response) => Promise.resolve(response),
      }],
    }));
  };
}

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
  const makeClient = apiClientMaker(config);
  return {
    cluster: access.name,
    config,
    apps: makeClient(AppsV1Api),
    core: makeClient(CoreV1Api),
    authorization: makeClient(AuthorizationV1Api),
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
