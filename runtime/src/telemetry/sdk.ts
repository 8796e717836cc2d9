/**
 * Tracing: OTLP/HTTP traces (settings.ts: the standard OTEL_* variables), http + pg + mongodb + kafkajs
 * instrumentation, every span of a run tagged `upshift.run.id`. Must run before those modules load: use
 * the `--import` preload (preload.ts). Sampler, span limits and batching come from tracer-settings.ts
 * (OTEL_TRACES_SAMPLER/_ARG, default parentbased_always_on: an event's sampled flag decides for its whole
 * handling; OTEL_SPAN_*_LIMIT; OTEL_BSP_*), since SDK 3.x no longer reads them from the environment.
 *
 * Start-up cost is kept small on purpose (it is paid by every function process): the trace SDK alone
 * rather than `@opentelemetry/sdk-node` (which loads every exporter, metrics and logs: ~1 s of CPU),
 * and the ESM loader hook only intercepts the modules instrumented here, in-thread (`registerHooks`),
 * instead of wrapping every module of the process off-thread (~2.5 s of CPU per start).
 */
import { register as registerHooks } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { Sampler } from '@opentelemetry/sdk-trace';
import { register as registerSyncHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import { RunSpanProcessor } from './run-context.ts';
import type { SamplerSetting, TracerSettings } from './tracer-settings.ts';

/** Options for startTelemetry. */
export interface TelemetryOptions {
  readonly serviceName: string;
  /** The OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces (settings.ts). */
  readonly tracesUrl: string;
  /** Sampler, span limits and batching (tracer-settings.ts). */
  readonly tracer: TracerSettings;
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

/** The SDK sampler `setting` names. */
function samplerOf(setting: SamplerSetting): Sampler {
  switch (setting.name) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return new TraceIdRatioBasedSampler(setting.ratio);
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(setting.ratio) });
  }
}

/**
 * What `NodeTracerProvider#register()` did before SDK 3.x: the AsyncLocalStorage context manager,
 * W3C trace context + baggage propagation (http and kafkajs headers), and `provider` as the global one.
 */
function registerGlobally(provider: TracerProvider): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
}

/** Starts tracing and returns a shutdown that flushes pending spans. */
export function startTelemetry(options: TelemetryOptions): () => Promise<void> {
  hookInstrumentedModules();
  // Headers, timeout and compression come from OTEL_EXPORTER_OTLP_(TRACES_)* through the exporter itself.
  const exporter = new OTLPTraceExporter({ url: options.tracesUrl });
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }))
    .merge(detectResources({ detectors: [envDetector] })); // OTEL_RESOURCE_ATTRIBUTES
  const provider = new TracerProvider({
    resource,
    sampler: samplerOf(options.tracer.sampler),
    spanLimits: { ...options.tracer.spanLimits },
    spanProcessors: [new RunSpanProcessor(), new BatchSpanProcessor({ exporter, ...options.tracer.batching })],
  });
  registerGlobally(provider);
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
