/**
 * Delivering one Kafka record to a function over HTTP the way a Knative KafkaSource does: binary-mode
 * CloudEvent POST; 2xx acks; 400 (and other 4xx but 404/408/409/429) dead-letters at once; 404, 408,
 * 409, 429, 5xx and network errors retry with exponential backoff until the attempts run out.
 */
import { Agent, request } from 'node:http';
import { HTTP, Kafka as KafkaBinding } from 'cloudevents';
import type { CloudEvent } from 'cloudevents';
import type { KafkaMessage } from 'kafkajs';

/** Retry policy (Knative `delivery`: retry, backoffPolicy exponential, backoffDelay). */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly backoffDelayMs: number;
  readonly maxDelayMs: number;
  readonly requestTimeoutMs: number;
}

/** Knative's defaults scaled for local use. */
export const defaultRetryPolicy: RetryPolicy = { retries: 5, backoffDelayMs: 200, maxDelayMs: 10_000, requestTimeoutMs: 30_000 };

/** One HTTP attempt's result; status 0 = no response (network error or timeout). */
export interface AttemptResult {
  readonly status: number;
  readonly body: string;
}

/** How a delivery ended. */
export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly attempts: number }
  | { readonly kind: 'dead-letter'; readonly attempts: number; readonly status: number; readonly reason: string }
  /** Stopped mid-retry: leave the offset uncommitted so the record is delivered again. */
  | { readonly kind: 'aborted'; readonly attempts: number };

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Whether a status is worth retrying (Knative's rule). */
export function isRetriableStatus(status: number): boolean {
  return status === 0 || status === 404 || status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Exponential backoff delay before retry `n` (0-based), capped. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxDelayMs, policy.backoffDelayMs * 2 ** retry);
}

/** The HTTP binary-mode request of a Kafka record (the SDK maps ce_ headers to ce- headers). */
export function httpRequestOf(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): { headers: Record<string, string>; body: string } {
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
  return { headers: out, body: typeof http.body === 'string' ? http.body : JSON.stringify(http.body) };
}

/** POSTs once; never throws (a network failure is status 0 with the error as body). */
export function postOnce(url: string, message: { headers: Record<string, string>; body: string }, timeoutMs: number): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { ...message.headers, 'content-length': Buffer.byteLength(message.body) }, timeout: timeoutMs }, (res) => {
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

/** Delivers with retries; `pause(ms)` waits (and heartbeats the consumer), resolving false to give up. */
export async function deliverWithRetry(
  url: string,
  message: { headers: Record<string, string>; body: string },
  policy: RetryPolicy,
  pause: (ms: number) => Promise<boolean>,
): Promise<DeliveryOutcome> {
  for (let attempt = 1; ; attempt++) {
    const result = await postOnce(url, message, policy.requestTimeoutMs);
    if (result.status >= 200 && result.status < 300) return { kind: 'delivered', attempts: attempt };
    const exhausted = attempt > policy.retries;
    if (!isRetriableStatus(result.status) || exhausted) {
      const why = isRetriableStatus(result.status) ? `retries exhausted after ${attempt} attempts` : 'not retriable';
      return { kind: 'dead-letter', attempts: attempt, status: result.status, reason: `${why}: HTTP ${result.status} ${result.body}`.slice(0, 2000) };
    }
    if (!(await pause(backoffDelay(policy, attempt - 1)))) {
      return { kind: 'aborted', attempts: attempt };
    }
  }
}
