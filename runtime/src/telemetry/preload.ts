/**
 * `node --import @upshift/runtime/telemetry/preload app.ts`: registers the ESM hook and starts the
 * SDK before pg, kafkajs and http load, so their instrumentation patches them. Without OTLP_ENDPOINT
 * it does nothing (tracing off). Service name: OTEL_SERVICE_NAME, else UPSHIFT_FUNCTION, else "upshift".
 */
import { register } from 'node:module';
import { startTelemetry } from './sdk.ts';

const endpoint = process.env['OTLP_ENDPOINT'];
if (endpoint) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const serviceName = process.env['OTEL_SERVICE_NAME'] ?? process.env['UPSHIFT_FUNCTION'] ?? 'upshift';
  const shutdown = startTelemetry({ serviceName, otlpEndpoint: endpoint });
  (globalThis as { upshiftTelemetryShutdown?: () => Promise<void> }).upshiftTelemetryShutdown = shutdown;
}
