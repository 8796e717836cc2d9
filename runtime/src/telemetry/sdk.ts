/**
 * Tracing: OTLP/HTTP traces (settings.ts: the standard OTEL_* variables), http + pg + mongodb + kafkajs
 * instrumentation, every span of a run tagged `upshift.run.id`. Must run before those modules load: use
 * the `--import` preload (preload.ts). The sampler is the SDK's from OTEL_TRACES_SAMPLER/_ARG (default
 * parentbased_always_on: an event's sampled flag decides for its whole handling).
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
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { register as registerSyncHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import { RunSpanProcessor } from './run-context.ts';

/** Options for startTelemetry. */
export interface TelemetryOptions {
  readonly serviceName: string;
  /** The OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces (settings.ts). */
  readonly tracesUrl: string;
}

/**
 * The modules the instrumentations below patch when ESM code imports them (CommonJS `require`s are
 * patched through require-in-the-middle either way); no other module goes through the ESM hook.
 */
const instrumentedModules: readonly string[] = ['http', 'https', 'pg', 'pg-pool', 'mongodb', 'kafkajs'];

/** Registers the import-in-the-middle loader hook for `instrumentedModules` only. */
function hookInstrumentedModules(): void {
  if (supportsSyncHooks()) registerSyncHooks({ include: [...instrumentedModules] });
  else registerHooks('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: [...instrumentedModules] } });
}

/** Starts tracing and returns a shutdown that flushes pending spans. */
export function startTelemetry(options: TelemetryOptions): () => Promise<void> {
  hookInstrumentedModules();
  // Headers, timeout and compression come from OTEL_EXPORTER_OTLP_(TRACES_)* through the exporter itself.
  const exporter = new OTLPTraceExporter({ url: options.tracesUrl });
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }))
    .merge(detectResources({ detectors: [envDetector] })); // OTEL_RESOURCE_ATTRIBUTES
  // A short default delay (spans of a run show up in Jaeger while it runs); OTEL_BSP_* when set.
  const batching = process.env['OTEL_BSP_SCHEDULE_DELAY'] ? {} : { scheduledDelayMillis: 500 };
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new RunSpanProcessor(), new BatchSpanProcessor(exporter, batching)],
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
      new MongoDBInstrumentation({ enhancedDatabaseReporting: false }),
      new KafkaJsInstrumentation(),
    ],
  });
  return async () => {
    unregister();
    await provider.shutdown();
  };
}
