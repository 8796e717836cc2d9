/** The outcome counters read the events a decision committed: real fixtures in, Prometheus samples out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture } from '@upshift/events';
import type { EventName } from '@upshift/events';
import { Registry } from 'prom-client';
import { countOutcomes, createDomainMetrics } from '../../src/host/domain-metrics.ts';

/** A committed output as the host holds it: the event's type and structured JSON. */
function output(name: EventName) {
  const event = fixture(name);
  return { type: event.type, event: JSON.parse(JSON.stringify(event)) as Record<string, unknown> };
}

async function samples(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return Object.fromEntries((metric?.values ?? []).map((v) => [`${String((v as { metricName?: string }).metricName ?? name)}${JSON.stringify(v.labels)}`, v.value]));
}

test('runs, waves, shards and restores are counted by outcome from the events a decision committed', async () => {
  const registry = new Registry();
  const metrics = createDomainMetrics(registry);
  countOutcomes(metrics, [
    output('upgrade.completed'), output('upgrade.rolled-back'), output('upgrade.failed'), output('upgrade.completed'),
    output('rollout.wave.completed'), output('rollout.wave.failed'),
    output('shard.completed'), output('shard.failed'), output('shard.restore.done'),
    output('shard.requested'), output('run.progress'),
  ]);
  assert.deepEqual(await samples(registry, 'upshift_runs_total'), {
    'upshift_runs_total{"outcome":"completed"}': 2, 'upshift_runs_total{"outcome":"rolled_back"}': 1, 'upshift_runs_total{"outcome":"failed"}': 1,
  });
  assert.deepEqual(await samples(registry, 'upshift_waves_total'), { 'upshift_waves_total{"outcome":"completed"}': 1, 'upshift_waves_total{"outcome":"failed"}': 1 });
  assert.deepEqual(await samples(registry, 'upshift_shards_total'), { 'upshift_shards_total{"outcome":"completed"}': 1, 'upshift_shards_total{"outcome":"failed"}': 1 });
  const completed = fixture('shard.completed').data;
  const durations = await samples(registry, 'upshift_shard_duration_seconds');
  assert.equal(durations['upshift_shard_duration_seconds_sum{}'], completed.durationMs / 1000);
  assert.equal(durations['upshift_shard_duration_seconds_count{}'], 1);
  const restore = fixture('shard.restore.done').data;
  assert.deepEqual(await samples(registry, 'upshift_records_restored_total'), { [`upshift_records_restored_total{"migration":"${restore.migration}"}`]: restore.rowsRestored });
});
