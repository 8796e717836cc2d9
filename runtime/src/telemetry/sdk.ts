/**
 * Tracing: OTLP/HTTP traces to OTLP_ENDPOINT, http + pg + kafkajs instrumentation. Must run before those
 * modules load: use the `--import` preload (preload.ts).
 *
 * Start-up cost is kept small on purpose (it is paid by every function process): a tracer provider
 * rather than `@opentelemetry/sdk-node` (which loads every exporter, metrics and logs: ~1 s of CPU),
 * and the ESM loader hook only intercepts the modules instrumented here, in-thread (`registerHooks`),
 * instead of wrapping every module of the process off-thread (~2.5 s of CPU per start).
 */
import { register as registerHooks } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { register as registerSyncHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';

/** Options for startTelemetry. */
export interface TelemetryOptions {
  readonly serviceName: string;
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318; traces go to `<endpoint>/v1/traces`. */
  readonly otlpEndpoint: string;
}

/**
 * The modules the instrumentations below patch when ESM code imports them (CommonJS `require`s are
 * patched through require-in-the-middle either way); no other module goes through the ESM hook.
 */
const instrumentedModules: readonly string[] = ['http', 'https', 'pg', 'pg-pool', 'kafkajs'];

/** Registers the import-in-the-middle loader hook for `instrumentedModules` only. */
function hookInstrumentedModules(): void {
  if (supportsSyncHooks()) registerSyncHooks({ include: [...instrumentedModules] });
  else registerHooks('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: [...instrumentedModules] } });
}

/** Starts tracing and returns a shutdown that flushes pending spans. */
export function startTelemetry(options: TelemetryOptions): () => Promise<void> {
  hookInstrumentedModules();
  const exporter = new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': options.serviceName })),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
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
  return async () => {
    unregister();
    await provider.shutdown();
  };
}
