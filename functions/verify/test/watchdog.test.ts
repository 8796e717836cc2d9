/**
 * The run watchdog (real control store): a run whose work event nobody handles is nudged (the event is
 * published again, as it was), then fails with its policy and a reason naming its stage, since when and
 * what is pending; a run with nothing pending that still did not end fails at once.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { fixture, shardIdFor, uuidv7, type RunPlan } from '@upshift/events';
import { readRunFacts, recordShards, savePlan, startRun, viewSteps, withTransaction } from '@upshift/runtime';
import { eventually } from '../../../runtime/test/support/stack.ts';
import fn from '../src/index.ts';
import { fixtureEvent, startFunction, type FunctionUnderTest } from '../../../test/support/handler.ts';

const ref = 'orders-currency@1';
let t: FunctionUnderTest;

before(async () => {
  t = await startFunction(fn, {
    UPSHIFT_CATALOG_DIR: fileURLToPath(new URL('../../../examples/catalog/', import.meta.url)),
    UPSHIFT_WATCHDOG_INTERVAL_MS: '250', UPSHIFT_STALL_AFTER_MS: '1500', UPSHIFT_STALL_NUDGES: '1',
  });
});

after(async () => {
  await t?.stop();
});

/** A running run with one wave and a migration of one recorded shard. */
async function seedRun(): Promise<string> {
  const runId = uuidv7();
  const template = fixture('upgrade.planned').data.waves[0]?.targets[0];
  assert.ok(template);
  const plan: RunPlan = {
    runId, policyName: 'watchdog', dryRun: false, clusters: [], waves: [{ index: 0, targets: [template] }],
    strategy: { maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 60, failurePolicy: 'rollback', contract: false },
    migrations: [{ ref, store: 'postgres', shards: 1, batchSize: 500, backup: true, afterWave: 0 }],
  };
  await withTransaction(t.store, async (tx) => {
    await startRun(tx, runId, { policy: fixture('upgrade.requested').data.policy }, []);
    await savePlan(tx, plan);
    await recordShards(tx, runId, [{ shardId: shardIdFor(runId, ref, 0), checkpoint: { migration: ref, index: 0 } }]);
  });
  return runId;
}

test('a run whose shard request nobody handles is nudged once, then rolls back: stuck in migrate, naming the event', { timeout: 30_000 }, async () => {
  const runId = await seedRun();
  const lost = fixtureEvent('shard.requested', (data) => ({ ...data, runId, shardId: shardIdFor(runId, ref, 0), migration: ref }));
  // As migrate-shard's fan-out leaves it: the request in the outbox, published, and never handled.
  await t.store.query(`INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event) VALUES ($1, $2, $3, 'mem.upshift.migrate-shard', $4, $5)`,
    [lost.source, lost.id, lost.type, lost.partitionkey, JSON.stringify(lost)]);
  await t.published([lost.id]);
  const publishedTimes = () => t.transport.published.filter((m) => m.event.id === lost.id).length;
  await eventually(async () => (publishedTimes() >= 2 ? true : undefined), 15_000);
  const [nudged] = await viewSteps(t.store, runId, 'watchdog');
  assert.deepEqual([nudged?.status, nudged?.attempt], ['running', 1], 'one nudge recorded');
  const status = await eventually(async () => {
    const run = await readRunFacts(t.store, runId);
    return run?.status === 'rolling-back' ? run.status : undefined;
  }, 15_000);
  assert.equal(status, 'rolling-back', 'the failure policy applies: the data is restored first');
  const [verdict] = await viewSteps(t.store, runId, 'watchdog');
  const reason = (verdict?.checkpoint as { reason: string }).reason;
  assert.match(reason, new RegExp(`^stuck in migrate since .*: 1 event\\(s\\) not handled after 1 nudge\\(s\\): shard.requested ${lost.id} for migrate-shard$`));
  const rollback = await eventually(async () => t.transport.published.find((m) => m.event.type === 'dev.upshift.rollback.requested.v1' && m.event.subject === runId));
  assert.equal((rollback.event.data as { reason: string }).reason, reason);
});

test('a run with nothing pending that did not end fails at once, saying so', { timeout: 30_000 }, async () => {
  const runId = await seedRun();
  const status = await eventually(async () => {
    const run = await readRunFacts(t.store, runId);
    return run?.status === 'rolling-back' ? run.status : undefined;
  }, 15_000);
  assert.equal(status, 'rolling-back');
  const [verdict] = await viewSteps(t.store, runId, 'watchdog');
  assert.match((verdict?.checkpoint as { reason: string }).reason, /no work is pending \(every event was handled\), yet the run did not end/);
});
