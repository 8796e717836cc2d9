/** The bridge from OpenTelemetry's active span to event trace attributes (kept out of the pure contract). */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { TraceContext } from './trace.ts';

/** The active OpenTelemetry span's context as event attributes, or undefined outside a span. */
export function activeTraceContext(): TraceContext | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  if (context === undefined || !isSpanContextValid(context)) return undefined;
  const flags = context.traceFlags.toString(16).padStart(2, '0');
  const traceparent = `00-${context.traceId}-${context.spanId}-${flags}`;
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
