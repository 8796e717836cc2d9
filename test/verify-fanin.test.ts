/**
 * verify's fan-in on the real control store and Kafka: shard outcomes delivered twice and concurrently
 * are counted once, exactly one verification runs (or, for a migration before the last wave, exactly one
 * request for the next wave), and a failed shard starts the rollback whose restores fan in to the image
 * revert.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEvent, isEventOf, shardIdFor, uuidv7, type AnyUpshiftEvent, type RunPlan } from '@upshift/events';
import pg from 'pg';
import { publishEvents } from '../runtime/test/support/publish.ts';
import { collect } from '../runtime/test/support/stack.ts';
import { startHarness, type Harness } from './support/run.ts';

let harness: Harness;

before(async () => {
  harness = await startHarness(['verify'], { duplicate: true });
});

after(async () => {
  await harness?.stop();
});


/** The 8 shard ids of a run's migration. */
const shardsOf = (runId: string) => Array.from({ length: 8 }, (_, i) => shardIdFor(runId, 'orders-currency@1', i));

/** A wave of one workload (never rolled out here: only verify runs). */
const wave = (index: number, service: string): RunPlan['waves'][number] => ({
  index, targets: [{ service, cluster: 'upshift-a', namespace: 'shop', workload: { kind: 'Deployment', name: service }, container: 'app', image: `registry.local/fanin/${service}:2.0.0`, previousImage: `registry.local/fanin/${service}:1.0.0` }],
});

/**
 * A run as plan and migrate-shard leave it: the plan, and one `shard` step per shard. By default the run
 * has no waves left (its migration runs after the last one); `waves` with `afterWave` 0 is a migration
 * that runs after the first of two waves.
 */
async function seedRun(failurePolicy: 'rollback' | 'freeze', waves: RunPlan['waves'] = []): Promise<string> {
  const runId = uuidv7();
  const shards = shardsOf(runId);
  const plan: RunPlan = {
    runId, policyName: 'fanin', dryRun: false, clusters: [], waves,
    strategy: { maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 60, failurePolicy, contract: false },
    migrations: [{ ref: 'orders-currency@1', store: 'postgres', shards: 8, batchSize: 100, backup: true, afterWave: 0 }],
  };
  const request = { policy: { spec: { verification: { checks: [{ name: 'workloads-available', kind: 'workloadsAvailable' }] } } } };
  const client = new pg.Client({ connectionString: harness.databaseUrl });
  await client.connect();
  try {
    await client.query(`INSERT INTO upshift.runs (id, status, request, plan) VALUES ($1, 'running', $2, $3)`, [runId, JSON.stringify(request), JSON.stringify(plan)]);
    for (const shard of shards) await client.query(`INSERT INTO upshift.steps (run_id, kind, key, status) VALUES ($1, 'shard', $2, 'running')`, [runId, shard]);
  } finally {
    await client.end();
  }
  return runId;
}

const fromMigrateShard = (event: Parameters<typeof createEvent>[0], data: unknown) =>
  createEvent(event, data as never, { producer: 'migrate-shard' }) as AnyUpshiftEvent;

test('8 shard completions delivered twice and concurrently: counted once, one verification, one completion', { timeout: 120_000 }, async () => {
  const runId = await seedRun('rollback');
  const shards = shardsOf(runId);
  const events = shards.map((shardId, i) => fromMigrateShard('shard.completed', { runId, shardId, migration: 'orders-currency@1', rowsMigrated: 100 + i, batches: 2, durationMs: 10 }));
  await Promise.all([publishEvents(harness.env, harness.prefix, events), publishEvents(harness.env, harness.prefix, [...events].reverse())]);
  const completed = await harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back'], 60_000);
  assert.ok(isEventOf(completed, 'upgrade.completed'), completed.type);
  assert.deepEqual(completed.data.migrations, [{ ref: 'orders-currency@1', shards: 8, rowsMigrated: 8 * 100 + 28 }]);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const distinct = (type: string) => new Set(harness.eventsOf(runId).filter((e) => e.type === type).map((e) => e.id)).size;
  assert.equal(distinct('dev.upshift.verify.results.v1'), 1, 'one verification');
  assert.equal(distinct('dev.upshift.upgrade.completed.v1'), 1, 'one completion');
});

test('a migration after the first of two waves: its 8 completions, twice and concurrently, request the second wave exactly once', { timeout: 120_000 }, async () => {
  const runId = await seedRun('rollback', [wave(0, 'customers'), wave(1, 'orders')]);
  const toRollout = await collect(harness.env, `${harness.prefix}upshift.rollout`);
  try {
    const events = shardsOf(runId).map((shardId, i) => fromMigrateShard('shard.completed', { runId, shardId, migration: 'orders-currency@1', rowsMigrated: 10 + i, batches: 1, durationMs: 5 }));
    // The last completion redelivered with a new event id (not deduplicated by the inbox): only the claim stops it.
    const again = fromMigrateShard('shard.completed', events.at(-1)?.data);
    await Promise.all([publishEvents(harness.env, harness.prefix, events), publishEvents(harness.env, harness.prefix, [...events].reverse())]);
    const next = await waitFor(toRollout, runId, 'dev.upshift.rollout.wave.requested.v1');
    assert.ok(isEventOf(next, 'rollout.wave.requested'));
    assert.deepEqual([next.data.wave, next.data.waves, next.data.targets.map((t) => t.service)], [1, 2, ['orders']]);
    await publishEvents(harness.env, harness.prefix, [again]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const requests = toRollout.events().filter((e) => e.type === 'dev.upshift.rollout.wave.requested.v1' && (e.data as { runId: string }).runId === runId);
    assert.equal(new Set(requests.map((e) => e.id)).size, 1, 'one request for the next wave');
    assert.deepEqual(harness.eventsOf(runId).map((e) => e.type), [], 'no verification and no ending while waves remain');
    const client = new pg.Client({ connectionString: harness.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ key: string; status: string }>(`SELECT key, status FROM upshift.steps WHERE run_id = $1 AND kind = 'once'`, [runId]);
      assert.deepEqual(rows, [{ key: 'wave-1', status: 'completed' }]);
    } finally {
      await client.end();
    }
  } finally {
    await toRollout.stop();
  }
});

test('a failed shard starts the rollback; the restores fan in to one image revert', { timeout: 120_000 }, async () => {
  const runId = await seedRun('rollback');
  const shards = shardsOf(runId);
  const toMigrateShard = await collect(harness.env, `${harness.prefix}upshift.migrate-shard`);
  const toRollout = await collect(harness.env, `${harness.prefix}upshift.rollout`);
  try {
    const outcomes = shards.map((shardId, i) => i === 5
      ? fromMigrateShard('shard.failed', { runId, shardId, migration: 'orders-currency@1', reason: 'row 4711: new row violates check constraint "amount_positive"', rowsMigrated: 3 })
      : fromMigrateShard('shard.completed', { runId, shardId, migration: 'orders-currency@1', rowsMigrated: 10, batches: 1, durationMs: 5 }));
    await publishEvents(harness.env, harness.prefix, outcomes);
    const results = await harness.waitFor(runId, ['verify.results'], 60_000);
    assert.ok(isEventOf(results, 'verify.results') && results.data.passed === false);
    const rollback = await waitFor(toMigrateShard, runId, 'dev.upshift.rollback.requested.v1');
    assert.ok(isEventOf(rollback, 'rollback.requested'));
    assert.equal(rollback.data.stage, 'migrate');
    assert.match(rollback.data.reason, /orders-currency@1:5: row 4711: new row violates check constraint/);
    const restores = shards.map((shardId) => fromMigrateShard('shard.restore.done', { runId, shardId, migration: 'orders-currency@1', outcome: 'restored', rowsRestored: 10 }));
    await publishEvents(harness.env, harness.prefix, restores);
    const revert = await waitFor(toRollout, runId, 'dev.upshift.image.revert.requested.v1');
    assert.ok(isEventOf(revert, 'image.revert.requested'));
    assert.deepEqual([revert.data.stage, revert.data.restoredShards], ['migrate', 8]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(new Set(toRollout.events().filter((e) => e.type === 'dev.upshift.image.revert.requested.v1' && (e.data as { runId: string }).runId === runId).map((e) => e.id)).size, 1);
  } finally {
    await toMigrateShard.stop();
    await toRollout.stop();
  }
});

async function waitFor(collector: Awaited<ReturnType<typeof collect>>, runId: string, type: string): Promise<AnyUpshiftEvent> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = collector.events().find((e) => e.type === type && (e.data as { runId: string }).runId === runId);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${type} for ${runId}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
