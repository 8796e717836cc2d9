/**
 * The run a piece of work belongs to, carried in the OpenTelemetry context: the host sets it around an
 * event's handling, and RunSpanProcessor (sdk.ts) copies it onto every span started inside, so
 * PostgreSQL, MongoDB, Kafka and Kubernetes calls of a run are found in Jaeger by `upshift.run.id` too.
 */
import { createContextKey } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';

/** The span attribute naming the run (searchable in Jaeger: tag `upshift.run.id=<id>`). */
export const RUN_ID_ATTRIBUTE = 'upshift.run.id';

const runIdKey = createContextKey('upshift.run.id');

/** `ctx` with the run id set (unchanged when there is none). */
export function withRunId(ctx: Context, runId: string | undefined): Context {
  return runId ? ctx.setValue(runIdKey, runId) : ctx;
}

/** The run id `ctx` carries, if any. */
export function runIdIn(ctx: Context): string | undefined {
  const value = ctx.getValue(runIdKey);
  return typeof value === 'string' ? value : undefined;
}

/** A span processor (the SDK's SpanProcessor shape) that tags every span started in a run's context. */
export class RunSpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const runId = runIdIn(parentContext);
    if (runId) span.setAttribute(RUN_ID_ATTRIBUTE, runId);
  }
  onEnding(): void {}
  onEnd(): void {}
  forceFlush(): Promise<void> { return Promise.resolve(); }
  shutdown(): Promise<void> { return Promise.resolve(); }
}
