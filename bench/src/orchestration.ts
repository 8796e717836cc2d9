/**
 * End-to-end orchestration overhead (issue 8): a run whose workloads are already at their target and whose
 * migration has 64 shards of about one row each, so nearly all the time is orchestration (Kafka hops,
 * dispatcher, control-store transactions, fan-out and fan-in). Prints publish → upgrade.completed with a
 * breakdown per stage, next to the sum of the handlers' own time (from the functions' Prometheus
 * metrics) measured in the same run, so the overhead is visible. Aim: under 5 s for the whole run.
 */
import { createEvent, entryFor, isEventOf, uuidv7, type AnyUpshiftEvent, type EventName } from '@upshift/events';
import { publishEvents } from '../../runtime/test/support/publish.ts';
import { seedOrders, startShardTest } from '../../functions/migrate-shard/test/support.ts';
import { clusterNames, deploy, deployment, freshNamespace, privateKubeconfig } from '../../test/support/kube.ts';
import { testPolicy } from '../../test/support/policy.ts';

const shards = Number(process.env.BENCH_E2E_SHARDS ?? 64);

/** Sum of `upshift_event_handling_seconds_sum` over every function's /metrics. */
async function handlerSeconds(urls: string[]): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith('upshift_event_handling_seconds_sum')) total += Number(line.split(' ').pop());
  }
  return total;
}

/** Runs the benchmark once and prints its figures. */
export async function benchOrchestration(): Promise<void> {
  const kubeconfig = privateKubeconfig();
  const t = await startShardTest({ functions: ['plan', 'rollout', 'migrate-shard', 'verify'], extraEnv: { UPSHIFT_SHARD_CONCURRENCY: '4' } });
  const ns = await freshNamespace('bench');
  try {
    const image = 'registry.local/bench/web:2.0.0';
    for (const cluster of clusterNames) await deploy(cluster, ns.name, [deployment('web', image)]);
    await seedOrders(t.shop, shards);
    const document = testPolicy(ns.name, [{ name: 'web', image }]);
    const policy = { ...document, spec: { ...document.spec, migrations: [{ ref: 'orders-currency@1', shards, batchSize: 100, backup: true }] } };
    const urls = t.harness.dev.functions.map((fn) => fn.url);
    const handledBefore = await handlerSeconds(urls);
    const runId = uuidv7();
    const started = Date.now();
    await publishEvents(t.harness.env, t.harness.prefix, [createEvent('upgrade.requested', { runId, policy: policy as never }, { producer: 'cli' }) as AnyUpshiftEvent]);
    const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back', 'upgrade.rejected'], 300_000);
    const total = Date.now() - started;
    if (!isEventOf(end, 'upgrade.completed')) throw new Error(`the run ended ${end.type}: ${JSON.stringify(end.data)}`);
    const handled = (await handlerSeconds(urls)) - handledBefore;
    const at = (name: EventName) => Date.parse(t.harness.eventsOf(runId).filter((e) => e.type === entryFor(name).type).map((e) => e.time).sort().pop() ?? '') - started;
    const planned = at('upgrade.planned');
    const rolled = at('rollout.wave.completed');
    const verified = at('verify.results');
    const row = (label: string, ms: number) => process.stdout.write(`  ${label.padEnd(52)} ${(ms / 1000).toFixed(2).padStart(7)} s\n`);
    process.stdout.write(`orchestration: ${shards} shards of ~1 row, 1 workload already at target in 2 clusters (PostgreSQL as started by the stack)\n`);
    row('publish → upgrade.planned (plan, preflight)', planned);
    row('→ last rollout.wave.completed (expand, 2 waves)', rolled - planned);
    row('→ verify.results (fan-out, shards, fan-in, checks)', verified - rolled);
    row('→ upgrade.completed', total - verified);
    row('publish → upgrade.completed (whole run)', total);
    row('sum of handler time (all functions)', handled * 1000);
    process.stdout.write(`  wall / handler-sum: ${(total / (handled * 1000)).toFixed(2)}× (shards run ${t.harness.env['UPSHIFT_SHARD_CONCURRENCY'] ?? 4} at a time, so the sum can exceed the wall time)\n`);
    process.stdout.write(`  aim: whole run < 5 s → ${total < 5000 ? 'met' : 'missed'}\n`);
  } finally {
    await ns.remove();
    await t.stop();
    kubeconfig.remove();
  }
}

if (import.meta.main) await benchOrchestration();
