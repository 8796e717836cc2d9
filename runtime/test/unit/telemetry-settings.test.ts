/** Tracing and tracer settings from the standard OpenTelemetry variables (table-driven), and log lines correlated by trace_id/span_id. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ROOT_CONTEXT, context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger } from '../../src/log.ts';
import { deliveryOrigin, knativeConsumerGroup } from '../../src/telemetry/messaging.ts';
import { tracingSettings } from '../../src/telemetry/settings.ts';
import { DEFAULT_SCHEDULE_DELAY_MS, tracerSettings } from '../../src/telemetry/tracer-settings.ts';

const cases: { name: string; env: Record<string, string>; expected: ReturnType<typeof tracingSettings> }[] = [
  { name: 'nothing set: off', env: {}, expected: { enabled: false, why: 'no OTEL_EXPORTER_OTLP_ENDPOINT (or OTLP_ENDPOINT) set' } },
  { name: 'the standard base endpoint', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', UPSHIFT_FUNCTION: 'plan' }, expected: { enabled: true, serviceName: 'plan', tracesUrl: 'http://collector:4318/v1/traces' } },
  { name: 'OTLP_ENDPOINT stays an alias', env: { OTLP_ENDPOINT: 'http://jaeger:4318' }, expected: { enabled: true, serviceName: 'upshift', tracesUrl: 'http://jaeger:4318/v1/traces' } },
  { name: 'the standard name wins over the alias', env: { OTLP_ENDPOINT: 'http://old:4318', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://new:4318' }, expected: { enabled: true, serviceName: 'upshift', tracesUrl: 'http://new:4318/v1/traces' } },
  { name: 'the traces endpoint is used as is', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces', OTEL_SERVICE_NAME: 'svc', UPSHIFT_FUNCTION: 'plan' }, expected: { enabled: true, serviceName: 'svc', tracesUrl: 'https://b/otlp/traces' } },
  { name: 'OTEL_SDK_DISABLED', env: { OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }, expected: { enabled: false, why: 'OTEL_SDK_DISABLED=true' } },
  { name: 'OTEL_TRACES_EXPORTER=none', env: { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }, expected: { enabled: false, why: 'OTEL_TRACES_EXPORTER=none' } },
  { name: 'OTEL_TRACES_EXPORTER=otlp', env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, expected: { enabled: true, serviceName: 'upshift', tracesUrl: 'http://a:4318/v1/traces' } },
];

for (const { name, env, expected } of cases) {
  test(`tracing settings: ${name}`, () => assert.deepEqual(tracingSettings(env), expected));
}

test('an OTLP protocol the exporter cannot speak is refused by name, not silently untraced', () => {
  assert.throws(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /OTEL_EXPORTER_OTLP_PROTOCOL=grpc/);
});

const tracerCases: { name: string; env: Record<string, string>; expected: ReturnType<typeof tracerSettings> }[] = [
  { name: 'nothing set: parent-based always-on, SDK limits, 500 ms batches', env: {}, expected: { sampler: { name: 'parentbased_always_on' }, spanLimits: {}, batching: { scheduledDelayMillis: DEFAULT_SCHEDULE_DELAY_MS } } },
  { name: 'always_off (any case)', env: { OTEL_TRACES_SAMPLER: ' Always_Off ' }, expected: { sampler: { name: 'always_off' }, spanLimits: {}, batching: { scheduledDelayMillis: DEFAULT_SCHEDULE_DELAY_MS } } },
  { name: 'a ratio sampler takes OTEL_TRACES_SAMPLER_ARG', env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, expected: { sampler: { name: 'parentbased_traceidratio', ratio: 0.25 }, spanLimits: {}, batching: { scheduledDelayMillis: DEFAULT_SCHEDULE_DELAY_MS } } },
  { name: 'a ratio sampler without its argument samples everything', env: { OTEL_TRACES_SAMPLER: 'traceidratio' }, expected: { sampler: { name: 'traceidratio', ratio: 1 }, spanLimits: {}, batching: { scheduledDelayMillis: DEFAULT_SCHEDULE_DELAY_MS } } },
  {
    name: 'span limits: the span-specific variable wins over the general one',
    env: { OTEL_ATTRIBUTE_COUNT_LIMIT: '64', OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '32', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4096', OTEL_SPAN_EVENT_COUNT_LIMIT: '8', OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: '4', OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT: '16' },
    expected: { sampler: { name: 'parentbased_always_on' }, spanLimits: { attributeCountLimit: 32, attributeValueLengthLimit: 4096, eventCountLimit: 8, attributePerLinkCountLimit: 4, attributePerEventCountLimit: 16 }, batching: { scheduledDelayMillis: DEFAULT_SCHEDULE_DELAY_MS } },
  },
  {
    name: 'OTEL_BSP_* set the batching',
    env: { OTEL_BSP_SCHEDULE_DELAY: '5000', OTEL_BSP_EXPORT_TIMEOUT: '10000', OTEL_BSP_MAX_QUEUE_SIZE: '4096', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '256' },
    expected: { sampler: { name: 'parentbased_always_on' }, spanLimits: {}, batching: { scheduledDelayMillis: 5000, exportTimeoutMillis: 10000, maxQueueSize: 4096, maxExportBatchSize: 256 } },
  },
];

for (const { name, env, expected } of tracerCases) {
  test(`tracer settings: ${name}`, () => assert.deepEqual(tracerSettings(env), expected));
}

test('a sampler, ratio or limit that cannot be honoured is refused by name, not replaced by a default', () => {
  assert.throws(() => tracerSettings({ OTEL_TRACES_SAMPLER: 'always_of' }), /OTEL_TRACES_SAMPLER=always_of/);
  assert.throws(() => tracerSettings({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }), /OTEL_TRACES_SAMPLER_ARG=1.5/);
  assert.throws(() => tracerSettings({ OTEL_BSP_SCHEDULE_DELAY: '1s' }), /OTEL_BSP_SCHEDULE_DELAY=1s/);
  assert.throws(() => tracerSettings({ OTEL_SPAN_LINK_COUNT_LIMIT: '-1' }), /OTEL_SPAN_LINK_COUNT_LIMIT=-1/);
});

test('the delivery states its consumer group and partition; without it the group is the manifests\'', () => {
  const headers = { 'upshift-kafka-consumer-group': 'p.upshift-dispatcher-verify', 'upshift-kafka-partition': '2', 'upshift-kafka-offset': '17' };
  assert.deepEqual(deliveryOrigin({ headers }, 'verify', false), { consumerGroup: 'p.upshift-dispatcher-verify', partition: 2, offset: '17' });
  assert.deepEqual(deliveryOrigin({ headers: {} }, 'verify', false), { consumerGroup: knativeConsumerGroup('verify') });
  assert.deepEqual(deliveryOrigin(undefined, 'verify', true), { consumerGroup: 'upshift-verify-dead-letters' });
});

test('a log line inside a span carries trace_id, span_id and trace_flags (OpenTelemetry log correlation)', () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  try {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done(); } });
    const log = createLogger('test', 'info', sink);
    const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
    context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () => log.info('inside'));
    log.info('outside');
    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual([inside?.['trace_id'], inside?.['span_id'], inside?.['trace_flags']], [spanContext.traceId, spanContext.spanId, '01']);
    assert.equal(outside?.['trace_id'], undefined);
  } finally {
    context.disable();
  }
});
