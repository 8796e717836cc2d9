/**
 * `node --import @upshift/runtime/telemetry/preload app.ts`: starts tracing (sdk.ts) before pg, mongodb,
 * kafkajs and http load, so their instrumentation patches them. Configured by the standard OpenTelemetry
 * variables (settings.ts: OTEL_EXPORTER_OTLP_ENDPOINT, alias OTLP_ENDPOINT; OTEL_SERVICE_NAME, else
 * UPSHIFT_FUNCTION; tracer-settings.ts: OTEL_TRACES_SAMPLER, OTEL_BSP_*…). Without an endpoint it does
 * nothing and loads nothing.
 */
import { tracingSettings } from './settings.ts';
import { tracerSettings } from './tracer-settings.ts';

const settings = tracingSettings(process.env);
if (settings.enabled) {
  const tracer = tracerSettings(process.env);
  const { startTelemetry } = await import('./sdk.ts');
  const shutdown = startTelemetry({ serviceName: settings.serviceName, tracesUrl: settings.tracesUrl, tracer });
  (globalThis as { upshiftTelemetryShutdown?: () => Promise<void> }).upshiftTelemetryShutdown = shutdown;
}
