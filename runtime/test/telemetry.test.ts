/**
 * Telemetry by the OpenTelemetry conventions, on the real stack (Kafka, PostgreSQL, FerretDB, Jaeger):
 * functions configured only by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_TRACES_SAMPLER) export a run that Jaeger finds by its `upshift.run.id` — the handling span with the
 * messaging attributes of the real delivery (consumer group, key, partition), and the PostgreSQL and
 * MongoDB spans inside it tagged with the run too — while the function told `always_off` exports nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEvent, newTraceparent, traceIdOf } from '@upshift/events';
import type { AnyUpshiftEvent } from '@upshift/events';
import pg from 'pg';
import { runDev } from '@upshift/runtime/dev';
import type { DevRunner } from '@upshift/runtime/dev';
import { publishEvents } from './support/publish.ts';
import { eventually, freshDatabase, freshTopics, functionEnv, stackEnv, uniqueSuffix } from './support/stack.ts';

const env = stackEnv();
const environment = `telemetry-${uniqueSuffix()}`;
let db: Awaited<ReturnType<typeof freshDatabase>>;
let topics: Awaited<ReturnType<typeof freshTopics>>;
let dev: DevRunner;

interface JaegerSpan {
  spanID: string;
  traceID: string;
  operationName: string;
  processID: string;
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

before(async () => {
  assert.ok(env['OTLP_ENDPOINT'] && env['JAEGER_QUERY_URL'], 'Jaeger is not running: node stack/src/cli.ts up');
  db = await freshDatabase(env);
  topics = await freshTopics(env);
  const fnEnv = functionEnv(env, db.url, topics.prefix, {
    OTEL_EXPORTER_OTLP_ENDPOINT: env['OTLP_ENDPOINT']!,
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${environment}`,
    MONGODB_URL: process.env['MONGODB_URL'] ?? 'mongodb://127.0.0.1:27117/',
  });
  dev = await runDev({
    env: fnEnv, quiet: true,
    functions: [
      { name: 'migrate-shard', module: new URL('./functions/traced-expander.ts', import.meta.url).pathname },
      { name: 'rollout', module: new URL('./functions/recorder.ts', import.meta.url).pathname, env: { OTEL_TRACES_SAMPLER: 'always_off' } },
    ],
  });
});

after(async () => {
  await dev?.stop();
  await topics?.remove();
  await db?.drop();
});

async function jaeger<T>(path: string): Promise<T | undefined> {
  const response = await fetch(`${env['JAEGER_QUERY_URL']}${path}`).catch(() => undefined);
  return response?.ok ? ((await response.json()) as T) : undefined;
}

const tag = (span: JaegerSpan, key: string): unknown => span.tags.find((t) => t.key === key)?.value;

test('a run is found in Jaeger by upshift.run.id, with the delivery\'s messaging attributes and its database spans', { timeout: 90_000 }, async () => {
  const runId = `tel-${uniqueSuffix()}`;
  const traceparent = newTraceparent();
  const event = createEvent('migration.expand.requested', { runId, migrations: ['orders-currency@1'] }, { producer: 'cli', traceparent }) as AnyUpshiftEvent;
  await publishEvents(env, topics.prefix, [event]);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await eventually(async () => ((await client.query('SELECT 1 FROM test_received WHERE run_id = $1', [runId])).rowCount ? true : undefined), 60_000);
  } finally {
    await client.end();
  }

  // Searched by the run id alone (what an operator types into Jaeger's Tags field).
  const tags = encodeURIComponent(JSON.stringify({ 'upshift.run.id': runId }));
  const found = await eventually(async () => {
    const body = await jaeger<{ data?: JaegerTrace[] }>(`/api/traces?service=migrate-shard&tags=${tags}&lookback=1h&limit=5`);
    const trace = body?.data?.[0];
    const spans = trace?.spans ?? [];
    return spans.some((s) => tag(s, 'db.system') === 'mongodb' || tag(s, 'db.system.name') === 'mongodb') && spans.some((s) => s.operationName.startsWith('process ')) ? trace : undefined;
  }, 45_000);
  assert.equal(found.traceID, traceIdOf(traceparent), 'the run\'s trace continues the request\'s traceparent');

  const handling = found.spans.find((s) => s.operationName === `process ${topics.prefix}upshift.migrate-shard`);
  assert.ok(handling, 'the handling span');
  assert.equal(tag(handling, 'upshift.run.id'), runId);
  assert.equal(tag(handling, 'messaging.consumer.group.name'), `${topics.prefix}upshift-dispatcher-migrate-shard`, 'the dispatcher\'s real consumer group');
  assert.equal(tag(handling, 'messaging.kafka.message.key'), runId, 'the record key (partition key = run id)');
  assert.match(String(tag(handling, 'messaging.destination.partition.id')), /^\d+$/);
  assert.equal(typeof tag(handling, 'messaging.kafka.offset'), 'number');

  const database = found.spans.filter((s) => ['postgresql', 'mongodb'].includes(String(tag(s, 'db.system') ?? tag(s, 'db.system.name'))));
  const systems = new Set(database.map((s) => String(tag(s, 'db.system') ?? tag(s, 'db.system.name'))));
  assert.deepEqual([...systems].sort(), ['mongodb', 'postgresql'], 'PostgreSQL and MongoDB spans inside the handling');
  for (const span of database) assert.equal(tag(span, 'upshift.run.id'), runId, `${span.operationName} is tagged with the run`);

  const process = found.processes[handling.processID];
  assert.equal(process?.serviceName, 'migrate-shard');
  assert.ok(process?.tags.some((t) => t.key === 'deployment.environment.name' && t.value === environment), 'OTEL_RESOURCE_ATTRIBUTES honoured');
  // rollout handled its event before the search began; give its exporter (500 ms batches) time to have sent anything.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const whole = await jaeger<{ data?: JaegerTrace[] }>(`/api/traces/${found.traceID}`);
  const services = new Set(Object.values(whole?.data?.[0]?.processes ?? {}).map((p) => p.serviceName));
  assert.ok(services.has('migrate-shard') && !services.has('rollout'), 'rollout ran with OTEL_TRACES_SAMPLER=always_off: none of its spans is exported');
});
