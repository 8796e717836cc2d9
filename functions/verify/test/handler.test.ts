/**
 * verify's handler as Knative runs it (`init`, then `handle(context, event)`), on fixture shard outcomes
 * for runs left in the control store as plan and migrate-shard leave them (run, plan, `shard` steps):
 * the fan-in waits for every shard and hands the checks to `verify.requested`; a failed shard before
 * the last wave starts the rollback; the checks end a run; a redelivery changes nothing.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { fixture, isEventOf, shardIdFor, uuidv7, type AnyUpshiftEvent, type RunPlan } from '@upshift/events';
import { claimDetail, isClaimed, readRunFacts, recordShards, savePlan, startRun, viewSteps, withTransaction, type HandleResult } from '@upshift/runtime';
import fn from '../src/index.ts';
import { fixtureEvent, startFunction, type FunctionUnderTest } from '../../../test/support/handler.ts';

const ref = 'orders-currency@1';

let t: FunctionUnderTest;

before(async () => {
  t = await startFunction(fn, { UPSHIFT_CATALOG_DIR: fileURLToPath(new URL('../../../examples/catalog/', import.meta.url)) });
});

after(async () => {
  await t?.stop();
});

/** A wave of one workload, shaped like the fixture plan's (verify's fan-in never looks at it). */
function wave(index: number): RunPlan['waves'][number] {
  const template = fixture('upgrade.planned').data.waves[0]?.targets[0];
  assert.ok(template, 'the fixture plan has a target');
  return { index, targets: [{ ...template, service: `svc-${index}` }] };
}

/**
 * A run as plan and migrate-shard leave it: the run with the fixture's checks in its request, its plan
 * (`waves` waves, one migration after wave 0 unless `migrations` is false) and one pending `shard` step
 * per shard. Returns the run id and its shard ids.
 */
async function seedRun(options: { waves: number; shards: number; migrations?: boolean }): Promise<{ runId: string; shards: string[] }> {
  const runId = uuidv7();
  const shards = Array.from({ length: options.shards }, (_, i) => shardIdFor(runId, ref, i));
  const plan: RunPlan = {
    runId, policyName: 'verify-handler', dryRun: false, clusters: [],
    waves: Array.from({ length: options.waves }, (_, i) => wave(i)),
    strategy: { maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 60, failurePolicy: 'rollback', contract: false },
    migrations: options.migrations === false ? [] : [{ ref, store: 'postgres', shards: options.shards, batchSize: 500, backup: true, afterWave: 0 }],
  };
  const policy = fixture('upgrade.requested').data.policy;
  await withTransaction(t.store, async (tx) => {
    assert.ok(await startRun(tx, runId, { policy }, []));
    await savePlan(tx, plan);
    await recordShards(tx, runId, shards.map((shardId, index) => ({ shardId, checkpoint: { migration: ref, index } })));
  });
  return { runId, shards };
}

const shardCompleted = (runId: string, shardId: string) =>
  fixtureEvent('shard.completed', (data) => ({ ...data, runId, shardId, migration: ref, rowsMigrated: 100, batches: 1 }));
const shardFailed = (runId: string, shardId: string) =>
  fixtureEvent('shard.failed', (data) => ({ ...data, runId, shardId, migration: ref }));

async function handled(event: unknown): Promise<{ result: HandleResult; outputs: AnyUpshiftEvent[] }> {
  const result = await t.handle(event);
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  assert.equal(result.body['outcome'], 'handled');
  return { result, outputs: await t.outputsOf(result) };
}

test('after the last wave, the last shard.completed hands the checks to verify.requested', { timeout: 20_000 }, async () => {
  const { runId, shards } = await seedRun({ waves: 1, shards: 3 });
  const [last, ...others] = [...shards].reverse();
  for (const shardId of others) {
    const { outputs } = await handled(shardCompleted(runId, shardId));
    assert.deepEqual(outputs, [], `${shardId}: the fan-in waits for every shard`);
  }
  assert.ok(last);
  const { outputs } = await handled(shardCompleted(runId, last));
  const [requested, ...rest] = outputs;
  assert.deepEqual(rest, []);
  assert.ok(requested && isEventOf(requested, 'verify.requested'), requested?.type);
  assert.deepEqual(requested.data, { runId });
  assert.equal(requested.source, '/upshift/verify', 'verify hands the checks to itself');

  const fanIn = await viewSteps(t.store, runId, 'fanin');
  assert.deepEqual(fanIn.map((s) => [s.key, s.status]), shards.map((id) => [id, 'completed']), 'each shard recorded once');
  assert.equal(await isClaimed(t.store, runId, 'verify'), false, 'the verdict waits for the checks');
  assert.equal((await readRunFacts(t.store, runId))?.status, 'running');
  await t.published([requested.id]);
  assert.ok(t.transport.published.some((m) => m.event.id === requested.id && m.topic === 'mem.upshift.verify'));
});

test('a shard.failed before the last wave starts the rollback: rollback.requested and the run rolling back', { timeout: 20_000 }, async () => {
  const { runId, shards } = await seedRun({ waves: 2, shards: 2 });
  const [first, second] = shards;
  assert.ok(first && second);
  assert.deepEqual((await handled(shardCompleted(runId, first))).outputs, []);
  const failure = shardFailed(runId, second);
  const { outputs } = await handled(failure);
  const [rollback, ...rest] = outputs;
  assert.deepEqual(rest, [], 'no next wave, no checks');
  assert.ok(rollback && isEventOf(rollback, 'rollback.requested'), rollback?.type);
  assert.equal(rollback.data.stage, 'migrate');
  assert.ok(rollback.data.reason.includes(second) && rollback.data.reason.includes(failure.data.reason), rollback.data.reason);

  assert.equal((await readRunFacts(t.store, runId))?.status, 'rolling-back');
  assert.deepEqual(await claimDetail(t.store, runId, 'rollback'), { stage: 'migrate', reason: rollback.data.reason }, 'the rollback is claimed with its cause');
  assert.equal(await isClaimed(t.store, runId, 'wave-1'), false, 'wave 1 is never requested');
  assert.deepEqual((await viewSteps(t.store, runId, 'fanin')).map((s) => s.status), ['completed', 'failed']);
  await t.published([rollback.id]);
});

test('verify.requested runs the checks, reports them and completes the run', { timeout: 20_000 }, async () => {
  const { runId } = await seedRun({ waves: 0, shards: 0, migrations: false });
  const { outputs } = await handled(fixtureEvent('verify.requested', (data) => ({ ...data, runId })));
  const [results, completed, ...rest] = outputs;
  assert.deepEqual(rest, []);
  assert.ok(results && isEventOf(results, 'verify.results'), results?.type);
  assert.equal(results.data.passed, true, JSON.stringify(results.data.checks));
  assert.deepEqual(results.data.checks.map((c) => c.name), ['workloads-available', 'no-old-version', 'invariants'], 'the checks the policy asks for');
  assert.ok(completed && isEventOf(completed, 'upgrade.completed'), completed?.type);
  assert.equal(completed.data.contracted, false);
  const run = await readRunFacts(t.store, runId);
  assert.equal(run?.status, 'completed');
  assert.deepEqual((await viewSteps(t.store, runId, 'once')).map((s) => [s.key, s.status]), [['verify', 'completed']]);
  await t.published([results.id, completed.id]);
});

test('a redelivered shard outcome records nothing twice and emits nothing new', { timeout: 20_000 }, async () => {
  const { runId, shards } = await seedRun({ waves: 1, shards: 1 });
  const event = shardCompleted(runId, shards[0] ?? '');
  const first = await handled(event);
  assert.equal(first.outputs.length, 1);
  await t.published(first.outputs.map((e) => e.id));
  const outbox = await t.outboxCount(runId);
  const fanIn = await viewSteps(t.store, runId, 'fanin');

  const again = await t.handle(event);
  assert.equal(again.statusCode, 200);
  assert.deepEqual(again.body, { outcome: 'duplicate', outputs: first.result.body['outputs'] });
  assert.equal(await t.outboxCount(runId), outbox, 'no new event in the outbox');
  assert.deepEqual(await viewSteps(t.store, runId, 'fanin'), fanIn);
});
