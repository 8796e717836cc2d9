/**
 * How events reach functions, in one place for both hosts: the Knative manifests (KafkaSource
 * `delivery`, Knative Service `containerConcurrency` and `timeoutSeconds`, generated from
 * knative/src/spec.ts) and the `upshift dev` dispatcher read these values, so a run is retried,
 * queued and timed out alike on a laptop and in a cluster. Pure data and arithmetic, importable on
 * its own as `@upshift/runtime/delivery` (the manifest generator does not load the runtime).
 *
 * **The retry window outlasts a dead worker by construction.** A worker killed mid-shard leaves its
 * shard lease held until the lease expires (`UPSHIFT_SHARD_LEASE_TTL_MS`, 15 s by default), and its
 * replacement takes about 10 s to start. Until both are over, a delivery fails at once: connection
 * refused while nothing listens, then 409 LEASE_HELD. So the shortest time a delivery can spend
 * retrying before it is dead-lettered — every attempt failing at once, only the backoffs counting
 * (`retryWindowMs`; an attempt that times out only lengthens it) — must exceed 15 s + 10 s = 25 s.
 * `deliveryPolicy` gives 0.4 + 0.8 + … + 51.2 = 102 s (and 51 s even if a retry count started at
 * 0, backoffDelay·2^(n-1)); `test/faults/retry-window.test.ts` checks it against the lease default.
 */
import type { FunctionName } from '@upshift/events/contract';

/** Knative `delivery.backoffPolicy`. */
export type BackoffPolicy = 'exponential' | 'linear';

/** Retry policy of a delivery (Knative `delivery`); the dev-only fields have no Knative counterpart. */
export interface RetryPolicy {
  /** Retries after the first attempt (Knative `retry`): attempts = retries + 1. */
  readonly retries: number;
  /** Retry n (1-based) waits backoffDelay·2^n (exponential) or backoffDelay·n (linear), as Knative documents. */
  readonly backoffPolicy: BackoffPolicy;
  /** Knative `backoffDelay`. */
  readonly backoffDelayMs: number;
  /** Longest wait between two attempts (Knative's alpha `backoffMax`; unset: none). Tests shorten runs with it. */
  readonly maxDelayMs?: number;
  /** Longest one attempt may last; unset: the function's `timeoutSeconds` (Knative `timeout`). */
  readonly requestTimeoutMs?: number;
  /**
   * Dev only: a 429 (the instance is full) is retried without counting against `retries`, waiting
   * at most this long between such attempts...
   */
  readonly throttledMaxDelayMs: number;
  /** ...until the delivery has lasted this long; from then on a 429 counts like any retriable failure. */
  readonly throttledCeilingMs: number;
}

/** The retry policy of every KafkaSource and of the dev dispatcher: 8 retries, exponential from 200 ms. */
export const deliveryPolicy: RetryPolicy = Object.freeze({
  retries: 8,
  backoffPolicy: 'exponential',
  backoffDelayMs: 200,
  throttledMaxDelayMs: 2000,
  throttledCeilingMs: 15 * 60_000,
});

/** What one instance of a function takes: requests at once and how long each may last. */
export interface FunctionLimits {
  /** Knative `containerConcurrency` (a hard limit per instance); the dev dispatcher queues to it too. */
  readonly containerConcurrency: number;
  /** Knative Service `timeoutSeconds` and KafkaSource `delivery.timeout`; the dev dispatcher's request timeout. */
  readonly timeoutSeconds: number;
  /**
   * What `upshift dev`'s one process takes at once: it stands in for the Service's instances (Knative
   * scales migrate-shard out to one pod per shard), so it may exceed `containerConcurrency`.
   */
  readonly devConcurrency: number;
}

/** Each catalogue function's limits. */
export const functionLimits: Readonly<Record<FunctionName, FunctionLimits>> = Object.freeze({
  plan: { containerConcurrency: 10, timeoutSeconds: 120, devConcurrency: 10 },
  rollout: { containerConcurrency: 10, timeoutSeconds: 120, devConcurrency: 10 },
  // Database-bound: one shard per instance; Knative scales out to one instance per partition of its topic.
  // A shard invocation works at most UPSHIFT_SHARD_BUDGET_MS (20 s) and then continues by event.
  // Under `upshift dev` one process stands in for four pods: shards still run four at a time.
  'migrate-shard': { containerConcurrency: 1, timeoutSeconds: 120, devConcurrency: 4 },
  verify: { containerConcurrency: 10, timeoutSeconds: 300, devConcurrency: 10 },
});

/**
 * Variable through which the platform tells an instance how many requests it sends at once: the
 * Knative manifests set it to `containerConcurrency`, `upshift dev` to what its dispatcher sends.
 * A function that caps its own work (migrate-shard's shard slots) sizes the cap from it, so the
 * platform never meets a full instance (429) in normal operation.
 */
export const CONCURRENCY_VARIABLE = 'UPSHIFT_CONTAINER_CONCURRENCY';

/** The wait before retry `retry` (1-based). */
export function backoffDelay(policy: Pick<RetryPolicy, 'backoffPolicy' | 'backoffDelayMs' | 'maxDelayMs'>, retry: number): number {
  const delay = policy.backoffPolicy === 'linear' ? policy.backoffDelayMs * retry : policy.backoffDelayMs * 2 ** retry;
  return Math.min(policy.maxDelayMs ?? Infinity, delay);
}

/**
 * The shortest time from a delivery's first failed attempt to its dead letter: the sum of the
 * backoffs, as when every attempt fails at once (connection refused, 409). Attempts that hang until
 * the request timeout make it longer, up to `retryWindowMs + (retries + 1) · requestTimeout`.
 */
export function retryWindowMs(policy: Pick<RetryPolicy, 'retries' | 'backoffPolicy' | 'backoffDelayMs' | 'maxDelayMs'>): number {
  let total = 0;
  for (let retry = 1; retry <= policy.retries; retry++) total += backoffDelay(policy, retry);
  return total;
}
