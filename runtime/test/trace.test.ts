/**
 * One trace across functions: a chain of two test functions (as child processes with the OTel preload)
 * linked by Kafka and the dispatcher shows up in Jaeger as one trace in which the second handling span
 * is a child of the first.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEvent, newTraceparent, traceIdOf } from '@upshift/events';
import type { AnyUpshiftEvent } from '@upshift/events';
import pg from 'pg';
import { runDev } from '@upshift/runtime/dev';
import type { DevRunner } from '@upshift/runtime/dev';
import { publishEvents } from './support/publish.ts';
import { eventually, freshDatabase, freshTopics, functionEnv, stackEnv } from './support/stack.ts';

const env = stackEnv();
const expanderModule = new URL('./functions/expander.ts', import.meta.url).pathname;
const recorderModule = new URL('./functions/recorder.ts', import.meta.url).pathname;
let db: Awaited<ReturnType<typeof freshDatabase>>;
let topics: Awaited<ReturnType<typeof freshTopics>>;
let dev: DevRunner;

interface JaegerSpan {
  spanID: string;
  operationName: string;
  processID: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
}
interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

before(async () => {
  assert.ok(env['OTLP_ENDPOINT'] && env['JAEGER_QUERY_URL'], 'Jaeger is not running: node stack/src/cli.ts up');
  db = await freshDatabase(env);
  topics = await freshTopics(env);
  const fnEnv = functionEnv(env, db.url, topics.prefix, { OTLP_ENDPOINT: env['OTLP_ENDPOINT']! });
  dev = await runDev({
    env: fnEnv, quiet: true,
    functions: [{ name: 'migrate-shard', module: expanderModule }, { name: 'rollout', module: recorderModule }],
  });
});

after(async () => {
  await dev?.stop();
  await topics?.remove();
  await db?.drop();
});

async function fetchTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${env['JAEGER_QUERY_URL']}/api/traces/${traceId}`).catch(() => undefined);
  if (!response?.ok) return undefined;
  const body = (await response.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}

function handlingSpan(trace: JaegerTrace, service: string): JaegerSpan | undefined {
  return trace.spans.find((span) => trace.processes[span.processID]?.serviceName === service && span.operationName.startsWith('process ')
    && span.tags.some((tag) => tag.key === 'cloudevents.event_type'));
}

test('a chain of two functions across Kafka is one trace with the second handling span a child of the first', { timeout: 90_000 }, async () => {
  const traceparent = newTraceparent();
  const event = createEvent('migration.expand.requested', { runId: 'traced', migrations: ['orders-currency@1'] }, { producer: 'cli', traceparent });
  await publishEvents(env, topics.prefix, [event as AnyUpshiftEvent]);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await eventually(async () => ((await client.query(`SELECT 1 FROM test_received WHERE run_id = 'traced'`)).rowCount ? true : undefined));
  await client.end();

  // The relay's producer span may reach Jaeger in a later export batch than both handling spans: wait for all three.
  const producerSpan = (trace: JaegerTrace): boolean => trace.spans.some((span) => /^send /.test(span.operationName));
  const trace = await eventually(async () => {
    const found = await fetchTrace(traceIdOf(traceparent));
    return found && handlingSpan(found, 'migrate-shard') && handlingSpan(found, 'rollout') && producerSpan(found) ? found : undefined;
  }, 45_000);
  const first = handlingSpan(trace, 'migrate-shard')!;
  const second = handlingSpan(trace, 'rollout')!;
  const parent = second.references.find((ref) => ref.refType === 'CHILD_OF');
  assert.equal(parent?.spanID, first.spanID, 'rollout handling span is a child of the migrate-shard handling span');
  const tag = (span: JaegerSpan, key: string): unknown => span.tags.find((t) => t.key === key)?.value;
  assert.equal(tag(first, 'messaging.system'), 'kafka');
  assert.equal(tag(first, 'messaging.destination.name'), `${topics.prefix}upshift.migrate-shard`);
  assert.equal(tag(first, 'messaging.message.id'), event.id);
  assert.ok(producerSpan(trace), 'kafkajs producer span in the same trace');
  const services = new Set(Object.values(trace.processes).map((p) => p.serviceName));
  assert.ok(services.has('migrate-shard') && services.has('rollout'));
});
