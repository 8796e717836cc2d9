/**
 * Starts the OpenTelemetry NodeSDK: OTLP/HTTP traces to OTLP_ENDPOINT, http + pg + kafkajs
 * instrumentation. Must run before those modules load: use the `--import` preload (preload.ts).
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Options for startTelemetry. */
export interface TelemetryOptions {
  readonly serviceName: string;
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318; traces go to `<endpoint>/v1/traces`. */
  readonly otlpEndpoint: string;
}

/** Starts tracing and returns a shutdown that flushes pending spans. */
export function startTelemetry(options: TelemetryOptions): () => Promise<void> {
  const exporter = new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` });
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
    instrumentations: [
      // Health and metrics probes are not worth a trace each.
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => /^\/(health|metrics)/.test(request.url ?? ''),
      }),
      // Never record query parameter values: they may carry data or secrets.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new KafkaJsInstrumentation(),
    ],
  });
  sdk.start();
  return () => sdk.shutdown();
}

/** Flushes and stops the SDK started by the preload, if any (call on process shutdown). */
export async function shutdownTelemetry(): Promise<void> {
  const shutdown = (globalThis as { upshiftTelemetryShutdown?: () => Promise<void> }).upshiftTelemetryShutdown;
  await shutdown?.().catch(() => undefined);
}
