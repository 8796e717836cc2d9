/**
 * Delivering one Kafka record to a function over HTTP the way a Knative KafkaSource does: binary-mode
 * CloudEvent POST; 2xx acks; 400 (and other 4xx but 404/408/409/429) dead-letters at once; 404, 408,
 * 409, 5xx and network errors retry with backoff (`RetryPolicy`, delivery-policy.ts) until the
 * retries run out. A 429 — the instance is full — is backpressure, not failure: it is retried with
 * a short backoff without spending the retries, up to a long ceiling.
 */
import { Agent, request } from 'node:http';
import { HTTP, Kafka as KafkaBinding } from 'cloudevents';
import type { CloudEvent } from 'cloudevents';
import type { KafkaMessage } from '../transport/kafkajs.ts';
import { DELIVERY_HEADERS } from '../telemetry/messaging.ts';
import type { DeliveryOrigin } from '../telemetry/messaging.ts';
import { backoffDelay } from './delivery-policy.ts';
import type { RetryPolicy } from './delivery-policy.ts';

/** A retry policy with the attempt timeout settled (the function's own unless overridden). */
export type ResolvedRetryPolicy = RetryPolicy & { readonly requestTimeoutMs: number };

/** One HTTP attempt's result; status 0 = no response (network error or timeout). */
export interface AttemptResult {
  readonly status: number;
  readonly body: string;
}

/**
 * How a delivery ended. `attempts` counts every HTTP attempt, `throttled` those answered 429 (which do
 * not count against the retries).
 */
export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly attempts: number; readonly throttled: number }
  | { readonly kind: 'dead-letter'; readonly attempts: number; readonly throttled: number; readonly status: number; readonly reason: string }
  /** A record of the dead-letter topic that could not be delivered: logged and committed, never dead-lettered again. */
  | { readonly kind: 'dropped'; readonly attempts: number; readonly throttled: number; readonly status: number; readonly reason: string }
  /** Stopped mid-retry: leave the offset uncommitted so the record is delivered again. */
  | { readonly kind: 'aborted'; readonly attempts: number; readonly throttled: number };

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Whether a status is worth retrying (Knative's rule). */
export function isRetriableStatus(status: number): boolean {
  return status === 0 || status === 404 || status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The HTTP binary-mode request of a Kafka record (the SDK maps ce_ headers to ce- headers); `origin`, when
 * given, rides in `upshift-kafka-*` headers for the handling span's messaging attributes.
 */
export function httpRequestOf(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>, origin?: DeliveryOrigin): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const single = Array.isArray(value) ? value[0] : value;
    if (single !== undefined) headers[name.toLowerCase()] = single.toString();
  }
  const value = message.value?.toString() ?? '';
  const wire = { headers, key: message.key?.toString() ?? '', value, body: value };
  const event = KafkaBinding.toEvent(wire) as CloudEvent<unknown>;
  const http = HTTP.binary(event);
  const out: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(http.headers)) if (typeof headerValue === 'string') out[name] = headerValue;
  // Like Knative's dispatcher: the event's trace context also rides as W3C HTTP headers, so the
  // function's HTTP server span joins the event's trace (http instrumentation overrides it when the
  // dispatcher itself is traced, with a span of the same trace).
  if (typeof event.traceparent === 'string') out['traceparent'] = event.traceparent;
  if (typeof event.tracestate === 'string') out['tracestate'] = event.tracestate;
  if (origin) {
    out[DELIVERY_HEADERS.consumerGroup] = origin.consumerGroup;
    if (origin.partition !== undefined) out[DELIVERY_HEADERS.partition] = String(origin.partition);
    if (origin.offset !== undefined) out[DELIVERY_HEADERS.offset] = origin.offset;
  }
  return { headers: out, body: typeof http.body === 'string' ? http.body : JSON.stringify(http.body) };
}

/** An HTTP request of a record, ready to POST. */
export interface DeliveryRequest {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** POSTs once; never throws (a network failure, a timeout or `signal` aborting is status 0 with the reason as body). */
export function postOnce(url: string, message: DeliveryRequest, timeoutMs: number, signal?: AbortSignal): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const headers = { ...message.headers, 'content-length': Buffer.byteLength(message.body) };
    const req = request(url, { method: 'POST', agent, headers, timeout: timeoutMs, ...(signal ? { signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', (err) => resolve({ status: 0, body: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end(message.body);
  });
}

/** The wait before the `n`-th throttled attempt (1-based): the policy's backoff, capped short so a freed place is taken soon. */
function throttledDelay(policy: ResolvedRetryPolicy, n: number): number {
  return Math.min(policy.throttledMaxDelayMs, backoffDelay(policy, Math.min(n, 16)));
}

/**
 * Delivers with retries. `attempt()` makes one HTTP attempt (waiting for a place at the function
 * first), resolving undefined when the dispatcher is stopping; `pause(ms)` waits (and heartbeats the
 * consumer), resolving false to give up. `now` is injectable for tests.
 */
export async function deliverWithRetry(
  attempt: () => Promise<AttemptResult | undefined>,
  policy: ResolvedRetryPolicy,
  pause: (ms: number) => Promise<boolean>,
  now: () => number = Date.now,
): Promise<DeliveryOutcome> {
  const started = now();
  let attempts = 0;
  let failures = 0;
  let throttled = 0;
  for (;;) {
    const result = await attempt();
    if (!result) return { kind: 'aborted', attempts, throttled };
    attempts += 1;
    if (result.status >= 200 && result.status < 300) return { kind: 'delivered', attempts, throttled };
    let delay: number;
    if (result.status === 429 && now() - started < policy.throttledCeilingMs) {
      throttled += 1;
      delay = throttledDelay(policy, throttled);
    } else {
      failures += 1;
      if (!isRetriableStatus(result.status) || failures > policy.retries) {
        const why = isRetriableStatus(result.status) ? `retries exhausted after ${attempts} attempts (${throttled} throttled)` : 'not retriable';
        return { kind: 'dead-letter', attempts, throttled, status: result.status, reason: `${why}: HTTP ${result.status} ${result.body}`.slice(0, 2000) };
      }
      delay = backoffDelay(policy, failures);
    }
    if (!(await pause(delay))) return { kind: 'aborted', attempts, throttled };
  }
}
