/**
 * W3C trace context for events: `traceparent`/`tracestate` ride as CloudEvents extension
 * attributes (CloudEvents Distributed Tracing extension), so one run is one trace.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** A W3C `traceparent` (version 00): `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
export const TraceParent = z
  .string()
  .regex(/^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent "00-<trace id>-<span id>-<flags>"');
export type TraceParent = z.infer<typeof TraceParent>;

/** A W3C `tracestate`: vendor list, at most 512 characters, no control characters. */
export const TraceState = z.string().max(512).regex(/^[\x20-\x7e]*$/, 'must be a W3C tracestate');
export type TraceState = z.infer<typeof TraceState>;

/** Trace context carried by an event. */
export interface TraceContext {
  readonly traceparent: TraceParent;
  readonly tracestate?: TraceState;
}

/** The trace id (32 hex) of a traceparent. */
export function traceIdOf(traceparent: string): string {
  return traceparent.split('-')[1] ?? '';
}

/** A fresh sampled root traceparent, for a request made outside any trace. */
export function newTraceparent(): TraceParent {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}
