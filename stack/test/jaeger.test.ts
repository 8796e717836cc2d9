import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  tags: Array<{ key: string; value: unknown }>;
}

interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const otlpEndpoint = process.env.OTLP_ENDPOINT;
const queryUrl = process.env.JAEGER_QUERY_URL;
const serviceName = `stack-test-${process.pid}-${Date.now()}`;

/** Exports one span over OTLP/HTTP and returns its trace id. */
async function exportOneSpan(): Promise<string> {
  const exporter = new OTLPTraceExporter({ url: `${otlpEndpoint}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const span = provider.getTracer('upshift-stack-test').startSpan('stack.probe', {
    kind: SpanKind.INTERNAL,
    attributes: { 'upshift.run_id': 'run-1' },
  });
  const { traceId } = span.spanContext();
  span.end();
  await provider.forceFlush();
  await provider.shutdown();
  return traceId;
}

/** Polls a query API path until it answers 200 with a body the check accepts, or the deadline passes. */
async function pollJson<T>(path: string, accept: (body: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const response = await fetch(`${queryUrl}${path}`, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    last = `${response.status} ${text.slice(0, 300)}`;
    if (response.ok) {
      const body = JSON.parse(text) as T;
      if (accept(body)) return body;
    }
    await sleep(250);
  }
  throw new Error(`${path}: no matching answer within ${timeoutMs} ms; last: ${last}`);
}

test('a span exported over OTLP/HTTP is returned by the Jaeger query API', async () => {
  assert.ok(otlpEndpoint, 'OTLP_ENDPOINT must be set (run through `npm test`)');
  assert.ok(queryUrl, 'JAEGER_QUERY_URL must be set (run through `npm test`)');
  const traceId = await exportOneSpan();
  assert.match(traceId, /^[0-9a-f]{32}$/);

  const byId = await pollJson<{ data: JaegerTrace[] }>(`/api/traces/${traceId}`, (body) => body.data?.length === 1);
  const [trace] = byId.data;
  assert.ok(trace);
  assert.equal(trace.traceID, traceId);
  assert.equal(trace.spans.length, 1);
  const [span] = trace.spans;
  assert.ok(span);
  assert.equal(span.operationName, 'stack.probe');
  assert.equal(trace.processes[span.processID]?.serviceName, serviceName);
  assert.ok(span.tags.some((tag) => tag.key === 'upshift.run_id' && tag.value === 'run-1'));

  const services = await pollJson<{ data: string[] }>('/api/services', (body) => body.data?.includes(serviceName));
  assert.ok(services.data.includes(serviceName));

  const search = await pollJson<{ data: JaegerTrace[] }>(
    `/api/traces?service=${encodeURIComponent(serviceName)}&limit=10&lookback=1h`,
    (body) => body.data?.length === 1,
  );
  assert.equal(search.data[0]?.traceID, traceId);
});
