/**
 * The whole chain with every event delivered twice (dispatcher duplication on) and the functions as
 * separate processes exporting traces: the same end state, one completion, and one trace in Jaeger with
 * spans from all four functions and a handling span per shard — with one migration between the waves
 * (customers-profile after the customers waves), so verify's request for the next wave is duplicated too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createEvent, isEventOf, shardIdFor, uuidv7, type AnyUpshiftEvent } from '@upshift/events';
import { publishEvents } from '../runtime/test/support/publish.ts';
import { expectedOrdersChecksum, migratedOrdersChecksum, seedCustomers, seedOrders, startShardTest, type ShardTest } from '../functions/migrate-shard/test/support.ts';
import { clusterNames, deploy, deployment, freshNamespace, privateKubeconfig, running } from './support/kube.ts';
import { testPolicy } from './support/policy.ts';

let t: ShardTest;
let kubeconfig: ReturnType<typeof privateKubeconfig>;
const otlp = process.env.OTLP_ENDPOINT;
const jaeger = process.env.JAEGER_QUERY_URL;

before(async () => {
  assert.ok(otlp && jaeger, 'OTLP_ENDPOINT and JAEGER_QUERY_URL come from the stack (npm test exports them)');
  kubeconfig = privateKubeconfig();
  t = await startShardTest({
    functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process', duplicate: true,
    extraEnv: { UPSHIFT_SHARD_CONCURRENCY: '2', OTLP_ENDPOINT: otlp, KUBECONFIG: process.env.KUBECONFIG ?? '' },
  });
});

after(async () => {
  await t?.stop();
  kubeconfig?.remove();
});

interface JaegerTrace {
  spans: Array<{ operationName: string; processID: string; tags: Array<{ key: string; value: unknown }> }>;
  processes: Record<string, { serviceName: string }>;
}

async function traceOf(traceId: string, until: (trace: JaegerTrace) => boolean): Promise<JaegerTrace> {
  const deadline = Date.now() + 60_000;
  let last: JaegerTrace | undefined;
  for (;;) {
    const answer = await fetch(`${jaeger}/api/traces/${traceId}`);
    if (answer.ok) {
      const body = (await answer.json()) as { data: JaegerTrace[] };
      last = body.data[0];
      if (last && until(last)) return last;
    }
    if (Date.now() > deadline) throw new Error(`trace ${traceId} incomplete: ${last?.spans.length ?? 0} spans`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

test('every event delivered twice: one completion, and the run is one trace with all four functions and a span per shard', { timeout: 420_000 }, async () => {
  const ns = await freshNamespace('trace');
  try {
    const services = ['customers', 'orders'];
    const image = (s: string, tag: string) => `registry.local/trace/${s}:${tag}`;
    for (const cluster of clusterNames) await deploy(cluster, ns.name, services.map((s) => deployment(s, image(s, '1.0.0'))));
    await seedOrders(t.shop, 400);
    await seedCustomers(t.mongo, t.mongoDb, 20);
    const expected = await expectedOrdersChecksum(t.shop);
    const document = testPolicy(ns.name, [{ name: 'customers', image: image('customers', '2.0.0') }, { name: 'orders', image: image('orders', '2.0.0'), dependsOn: ['customers'] }]);
    const policy = { ...document, spec: { ...document.spec, migrations: [{ ref: 'orders-currency@1', shards: 4, batchSize: 100, backup: true }, { ref: 'customers-profile@1', shards: 2, batchSize: 50, backup: true, after: ['customers'] }] } };
    const runId = uuidv7();
    const traceId = randomBytes(16).toString('hex');
    const request = createEvent('upgrade.requested', { runId, policy: policy as never }, { producer: 'cli', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` }) as AnyUpshiftEvent;
    await publishEvents(t.harness.env, t.harness.prefix, [request]);
    const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back', 'upgrade.rejected'], 360_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const completions = new Set(t.harness.eventsOf(runId).filter((e) => isEventOf(e, 'upgrade.completed')).map((e) => e.id));
    assert.equal(completions.size, 1, 'one completion event per run');
    assert.equal(await migratedOrdersChecksum(t.shop), expected);
    const waves = await t.control.query<{ key: string; attempt: number }>(`SELECT key, attempt FROM upshift.steps WHERE run_id = $1 AND kind = 'wave' ORDER BY key`, [runId]);
    assert.deepEqual(waves.rows.map((r) => r.key), ['0', '1', '2', '3'], 'every wave once, the third requested by verify after customers-profile');
    for (const cluster of clusterNames) for (const s of services) assert.equal((await running(cluster, ns.name, s)).image, image(s, '2.0.0'));

    const shardIds = [0, 1, 2, 3].map((i) => shardIdFor(runId, 'orders-currency@1', i)).concat([0, 1].map((i) => shardIdFor(runId, 'customers-profile@1', i)));
    const tag = (span: JaegerTrace['spans'][number], key: string) => span.tags.find((x) => x.key === key)?.value;
    const shardSpans = (trace: JaegerTrace) => trace.spans.filter((s) => tag(s, 'cloudevents.event_type') === 'dev.upshift.shard.requested.v1' && tag(s, 'upshift.shard.outcome') === 'done');
    const trace = await traceOf(traceId, (tr) => new Set(shardSpans(tr).map((s) => tag(s, 'upshift.shard.id'))).size >= shardIds.length
      && tr.spans.some((s) => tag(s, 'cloudevents.event_type') === 'dev.upshift.shard.completed.v1'));
    const servicesInTrace = new Set(trace.spans.map((s) => trace.processes[s.processID]?.serviceName));
    for (const fn of ['plan', 'rollout', 'migrate-shard', 'verify']) assert.ok(servicesInTrace.has(fn), `${fn} in the trace (has ${[...servicesInTrace].join(', ')})`);
    assert.deepEqual(new Set(shardSpans(trace).map((s) => tag(s, 'upshift.shard.id'))), new Set(shardIds), 'one completing span per shard');
    assert.ok(shardSpans(trace).every((s) => Number(tag(s, 'upshift.shard.batches')) >= 1), 'batch counts on the shard spans');
  } finally {
    await ns.remove();
  }
});
