/**
 * `node --import @upshift/runtime/telemetry/preload app.ts`: starts tracing (sdk.ts) before pg, mongodb,
 * kafkajs and http load, so their instrumentation patches them. Configured by the standard OpenTelemetry
 * variables (settings.ts: OTEL_EXPORTER_OTLP_ENDPOINT, alias OTLP_ENDPOINT; OTEL_SERVICE_NAME, else
 * UPSHIFT_FUNCTION; OTEL_TRACES_SAMPLER…). Without an endpoint it does nothing and loads nothing.
 */
import { tracingSettings } from './settings.ts';

const settings = tracingSettings(process.env);
if (settings.enabled) {
  const { startTelemetry } = await import('./sdk.ts');
  const shutdown = startTelemetry({ serviceName: settings.serviceName, tracesUrl: settings.tracesUrl });
  (globalThis as { upshiftTelemetryShutdown?: () => Promise<void> }).upshiftTelemetryShutdown = shutdown;
}
