/** Whether a cluster's API server answers, and if not the network reason (plan's preflight asks first). */
import { ApiException } from '@kubernetes/client-node';
import type { ClusterClients } from './clusters.ts';
import { networkReason } from './kubernetes-errors.ts';

/** What asking a cluster's `/readyz` told: ready, or unreachable with the reason. */
export interface ClusterReadiness {
  cluster: string;
  reachable: boolean;
  /** Why not, e.g. "fetch failed: connect ECONNREFUSED 127.0.0.1:56443". */
  error?: string;
}

/** Asks the API server whether it is ready; an error or timeout means unreachable, with the reason. */
export async function observeCluster(clients: ClusterClients): Promise<ClusterReadiness> {
  try {
    const ready = await clients.health.readyz({ signal: AbortSignal.timeout(5000) }); // client-node 2 ignores `timeout`
    return ready
      ? { cluster: clients.cluster, reachable: true }
      : { cluster: clients.cluster, reachable: false, error: '/readyz is not ok' };
  } catch (error) {
    return { cluster: clients.cluster, reachable: false, error: await unreachableReason(clients, error) };
  }
}

/**
 * Why `/readyz` could not be asked. client-node's Health wraps every failure in "Error occurred in health
 * request", so one cheap API call (GET /api/v1) is made to get the network cause the generated
 * clients keep ("fetch failed: connect ECONNREFUSED 127.0.0.1:6443", a certificate error), within 5 s.
 */
async function unreachableReason(clients: ClusterClients, error: unknown): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${clients.config.getCurrentCluster()?.server ?? 'the API server'} did not answer within 5 s`), 5000);
  });
  const probe = clients.core.getAPIResources().then(() => describe(error), (cause: unknown) => describe(cause));
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof ApiException ? `API answered ${error.code}` : networkReason(error);
}
