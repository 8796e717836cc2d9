/**
 * knative/monitoring against what the functions really serve: migrate-shard runs a small migration on the
 * real stack, then its /metrics is scraped; every metric a PrometheusRule or a Grafana panel names must
 * be in it (with the type its suffix needs), and the migration's figures must be the ones it did.
 * The scrape wiring is checked on the built manifests: the pods the base annotates and the Service the
 * ServiceMonitor selects are the function pods.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { collect } from '../../runtime/test/support/stack.ts';
import { seedOrders, startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { prometheusAnnotations } from '../src/service.ts';
import { kustomize, ofKind, repoRoot } from './support/kubectl.ts';

const rows = 300;
let t: ShardTest;
let scrape = '';

before(async () => {
  t = await startShardTest();
  await seedOrders(t.shop, rows);
  const runId = await t.startRun();
  const rollout = await collect(t.harness.env, `${t.harness.prefix}upshift.rollout`);
  try {
    await t.publish('migration.expand.requested', { runId, migrations: ['orders-currency@1'] });
    await rollout.waitFor(1, 60_000);
  } finally {
    await rollout.stop();
  }
  await t.publish('migration.requested', { runId, migrations: [{ ref: 'orders-currency@1', store: 'postgres', shards: 2, batchSize: 50, backup: true }] });
  await t.waitForCount(t.verify, 'shard.completed', runId, 2, 60_000);
  const migrateShard = t.harness.dev.functions.find((fn) => fn.name === 'migrate-shard');
  assert.ok(migrateShard, 'migrate-shard is running');
  const response = await fetch(new URL('/metrics', migrateShard.url));
  assert.equal(response.status, 200);
  scrape = await response.text();
  if (process.env['SHOW_SCRAPE']) console.log(scrape.split('\n').filter((l) => l.startsWith('upshift_')).join('\n'));
}, { timeout: 120_000 });

after(async () => { await t?.stop(); });

/** Metric families of a Prometheus text exposition: name → type. */
function familiesOf(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1]!, match[2]!]));
}

/** The value of the sample of `name` with exactly `labels` (in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const match of text.matchAll(/^(\w+)(?:\{([^}]*)\})? (\S+)$/gm)) {
    if (match[1] !== name) continue;
    const found = [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1]!, label[2]!]);
    if (JSON.stringify(found.sort()) === wanted) return Number(match[3]);
  }
  return undefined;
}

/** Every upshift metric name in the monitoring rules' expressions and the dashboard's queries. */
function namedMetrics(): { where: string; name: string }[] {
  const rules = parse(readFileSync(`${repoRoot}knative/monitoring/prometheus-rules.yaml`, 'utf8')) as { spec: { groups: { rules: { alert: string; expr: string; annotations?: Record<string, string> }[] }[] } };
  const dashboard = JSON.parse(readFileSync(`${repoRoot}knative/monitoring/grafana-dashboard.json`, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const texts = [
    ...rules.spec.groups.flatMap((group) => group.rules.map((rule) => ({ where: `rule ${rule.alert}`, text: `${rule.expr} ${Object.values(rule.annotations ?? {}).join(' ')}` }))),
    ...dashboard.panels.map((panel) => ({ where: `panel "${panel.title}"`, text: panel.targets.map((target) => target.expr).join(' ') })),
  ];
  return texts.flatMap(({ where, text }) => [...text.matchAll(/\bupshift_[a-z0-9_]+/g)].map((match) => ({ where, name: match[0] })));
}

test('every metric a rule or a dashboard panel names is served at /metrics of a running function', () => {
  const families = familiesOf(scrape);
  const named = namedMetrics();
  assert.ok(named.length >= 15, `the rules and panels name ${named.length} metrics`);
  const missing = named.filter(({ name }) => {
    if (families.has(name)) return false;
    const histogram = name.replace(/_(bucket|sum|count)$/, '');
    return families.get(histogram) !== 'histogram';
  });
  assert.deepEqual(missing, [], 'named but not served');
  for (const alert of ['UpshiftRunStuck', 'UpshiftDeadLetters', 'UpshiftOutboxLag', 'UpshiftShardErrorRate']) {
    assert.ok(named.some(({ where }) => where === `rule ${alert}`), `the ${alert} rule names a served metric`);
  }
});

test('the metrics count what the migration did: records, batches, shards, outbox lag read from the control store', () => {
  const fn = { function: 'migrate-shard' };
  const ofMigration = { migration: 'orders-currency@1', store: 'postgres', ...fn };
  assert.equal(sample(scrape, 'upshift_records_migrated_total', ofMigration), rows);
  assert.ok((sample(scrape, 'upshift_batch_duration_seconds_count', ofMigration) ?? 0) >= rows / 50, 'one observation per batch');
  assert.equal(sample(scrape, 'upshift_shards_total', { outcome: 'completed', ...fn }), 2);
  assert.equal(sample(scrape, 'upshift_shard_duration_seconds_count', fn), 2);
  const lag = sample(scrape, 'upshift_outbox_oldest_unpublished_age_seconds', fn);
  assert.ok(lag !== undefined && lag >= 0 && lag < 60, `outbox lag ${lag}`);
  const idle = sample(scrape, 'upshift_run_longest_idle_seconds', fn) ?? 0;
  assert.ok(idle > 0 && idle < 600, `the test's run is still active (running) and was read as idle ${idle} s`);
});

test('the base annotates every function pod for scraping and the ServiceMonitor reaches exactly those pods', async () => {
  const base = await kustomize('knative/base');
  const monitoring = await kustomize('knative/monitoring');
  const services = base.filter((o) => o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1');
  assert.equal(services.length, 4);
  const metricsService = ofKind(monitoring, 'Service')[0] as unknown as { metadata: { labels: Record<string, string> }; spec: { selector: Record<string, string>; ports: { name: string; port: number }[] } };
  for (const ksvc of services) {
    const template = (ksvc as unknown as { spec: { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } } }).spec.template.metadata;
    assert.deepEqual(Object.fromEntries(Object.keys(prometheusAnnotations).map((k) => [k, template.annotations[k]])), prometheusAnnotations, ksvc.metadata.name);
    for (const [key, value] of Object.entries(metricsService.spec.selector)) assert.equal(template.labels[key], value, `${ksvc.metadata.name} pods are selected by ${key}`);
  }
  const monitor = ofKind(monitoring, 'ServiceMonitor')[0] as unknown as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
  for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(metricsService.metadata.labels[key], value);
  assert.deepEqual(monitor.spec.endpoints.map((e) => [e.port, e.path]), [[metricsService.spec.ports[0]?.name, '/metrics']]);
  assert.equal(ofKind(monitoring, 'PrometheusRule').length, 1);
  const dashboards = ofKind(monitoring, 'ConfigMap');
  assert.equal((dashboards[0] as { metadata: { labels?: Record<string, string> } } | undefined)?.metadata.labels?.['grafana_dashboard'], '1');
});
