/**
 * `node --import @upshift/runtime/telemetry/preload app.ts`: starts tracing (sdk.ts) before pg, kafkajs
 * and http load, so their instrumentation patches them. Without OTLP_ENDPOINT it does nothing and loads
 * nothing (tracing off). Service name: OTEL_SERVICE_NAME, else UPSHIFT_FUNCTION, else "upshift".
 */
const endpoint = process.env['OTLP_ENDPOINT'];
if (endpoint) {
  const { startTelemetry } = await import('./sdk.ts');
  const serviceName = process.env['OTEL_SERVICE_NAME'] ?? process.env['UPSHIFT_FUNCTION'] ?? 'upshift';
  const shutdown = startTelemetry({ serviceName, otlpEndpoint: endpoint });
  (globalThis as { upshiftTelemetryShutdown?: () => Promise<void> }).upshiftTelemetryShutdown = shutdown;
}
