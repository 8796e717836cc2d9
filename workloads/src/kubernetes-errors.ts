/**
 * Kubernetes API failures wrapped at the adapter boundary (STYLE.md, rule 4): each becomes retriable or
 * permanent, with a message naming the verb, resource and workload.
 */
import { ApiException } from '@kubernetes/client-node';
import type { WorkloadRef } from './workload.ts';

/** How a Kubernetes API failure should be treated: retried later, or a permanent failure with a precise message. */
export type KubernetesFailure = { retriable: boolean; message: string; status?: number; unreachable?: boolean };

/**
 * Maps a client error to retry (unreachable: no answer at all; or 5xx, 409, 429) or a permanent failure
 * naming verb, resource and workload.
 */
export function classifyKubernetesError(error: unknown, verb: string, ref: WorkloadRef): KubernetesFailure {
  const resource = `${ref.kind.toLowerCase()}s`;
  const where = `${ref.kind} ${ref.namespace}/${ref.name} in cluster ${ref.cluster}`;
  if (error instanceof ApiException) {
    const code = error.code;
    if (code === 403) return { retriable: false, status: code, message: `forbidden: cannot ${verb} ${resource} in namespace ${ref.namespace} of cluster ${ref.cluster}` };
    if (code === 404) return { retriable: false, status: code, message: `not found: ${where}` };
    if (code === 401) return { retriable: false, status: code, message: `unauthorized: the credentials for cluster ${ref.cluster} were rejected` };
    if (code === 422 || code === 400) return { retriable: false, status: code, message: `invalid ${verb} of ${where}: ${apiMessage(error)}` };
    return { retriable: true, status: code, message: `cluster ${ref.cluster} answered ${code} to ${verb} ${where}: ${apiMessage(error)}` };
  }
  return { retriable: true, unreachable: true, message: `cluster ${ref.cluster} unreachable during ${verb} of ${where}: ${networkReason(error)}` };
}

type NetworkCause = Error & { code?: string; errors?: unknown[] };

/**
 * Why a request got no answer, with its network cause. client-node's fetch (undici) throws "fetch failed"
 * and keeps the reason in `cause` ("connect ECONNREFUSED 127.0.0.1:6443", a certificate error; an
 * AggregateError with one error per address tried): "fetch failed: connect ECONNREFUSED 127.0.0.1:6443".
 */
export function networkReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (!(cause instanceof Error)) return message;
  const { code, errors } = cause as NetworkCause;
  const reasons = errors?.length ? errors.map((e) => (e instanceof Error ? e.message : String(e))) : [cause.message];
  const reason = [...new Set(reasons)].join('; ');
  const coded = code && !reason.includes(code) ? `${reason} (${code})` : reason;
  return coded && coded !== message ? `${message}: ${coded}` : message;
}

/** True when the API answered 404: the object does not exist (as opposed to an unreachable cluster). */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

function apiMessage(error: ApiException<unknown>): string {
  const body = error.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      return parsed.message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? error.message;
}
