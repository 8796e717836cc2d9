/**
 * W3C trace context in and out of CloudEvents (Distributed Tracing extension: `traceparent`/`tracestate`
 * attributes). Uses the W3C propagator directly, so it works the same with or without a started SDK.
 */
import { ROOT_CONTEXT, context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { Context, SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const propagator = new W3CTraceContextPropagator();

/** The trace attributes an event carries. */
export interface TraceAttributes {
  traceparent?: string;
  tracestate?: string;
}

const recordGetter = {
  keys: (carrier: Readonly<Record<string, unknown>>) => Object.keys(carrier),
  get: (carrier: Readonly<Record<string, unknown>>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/** The context an event continues (its `traceparent`), or the root context if it has none. */
export function contextOfEvent(event: { readonly traceparent?: unknown; readonly tracestate?: unknown }): Context {
  const carrier = { traceparent: event.traceparent, tracestate: event.tracestate };
  return propagator.extract(ROOT_CONTEXT, carrier, recordGetter);
}

/** `traceparent`/`tracestate` for the given (default: current) context; empty when no span is active. */
export function traceAttributesOf(ctx: Context = context.active()): TraceAttributes {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, { set: (target, key, value) => { target[key] = value; } });
  const attributes: TraceAttributes = {};
  if (carrier['traceparent']) attributes.traceparent = carrier['traceparent'];
  if (carrier['tracestate']) attributes.tracestate = carrier['tracestate'];
  return attributes;
}

/** The trace id of the current span, for log lines; undefined outside a span. */
export function currentTraceId(): string | undefined {
  return currentSpanContext()?.traceId;
}

/** The context of the current span (trace id, span id, flags), for log correlation; undefined outside a valid span. */
export function currentSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext : undefined;
}
