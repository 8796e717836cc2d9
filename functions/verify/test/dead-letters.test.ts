/**
 * verify consumes the dead-letter topic (real control store): a run's event that delivery gave up on is
 * redriven when the cause was transient, and past the redrive limit, or at once when it was refused, the
 * run fails with its policy and a reason naming the event; a run already ended only records it.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { fixture, shardIdFor, uuidv7, type AnyUpshiftEvent, type RunPlan } from '@upshift/events';
import { defineFunction, readRunFacts, recordShards, savePlan, setRunStatus, startRun, viewSteps, withTransaction, type HandleResult } from '@upshift/runtime';
import fn from '../src/index.ts';
import { fixtureEvent, startFunction, type FunctionUnderTest } from '../../../test/support/handler.ts';

const ref = 'orders-currency@1';
let t: FunctionUnderTest;

before(async () => {
  t = await startFunction(fn, { UPSHIFT_CATALOG_DIR: fileURLToPath(new URL('../../../examples/catalog/', import.meta.url)), UPSHIFT_REDRIVE_LIMIT: '1' });
});

after(async () => {
  await t?.stop();
});

/** A running run with one wave, and (unless `shards` is 0) a migration with that many recorded shards. */
async function seedRun(shards: number): Promise<string> {
  const runId = uuidv7();
  const template = fixture('upgrade.planned').data.waves[0]?.targets[0];
  assert.ok(template);
  const plan: RunPlan = {
    runId, policyName: 'dead-letters', dryRun: false, clusters: [], waves: [{ index: 0, targets: [template] }],
    strategy: { maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 60, failurePolicy: 'rollback', contract: false },
    migrations: shards > 0 ? [{ ref, store: 'postgres', shards, batchSize: 500, backup: true, afterWave: 0 }] : [],
  };
  await withTransaction(t.store, async (tx) => {
    await startRun(tx, runId, { policy: fixture('upgrade.requested').data.policy }, []);
    await savePlan(tx, plan);
    await recordShards(tx, runId, Array.from({ length: shards }, (_, index) => ({ shardId: shardIdFor(runId, ref, index), checkpoint: { migration: ref, index } })));
  });
  return runId;
}

/** Delivers `event` to verify as the dead-letter sink does: binary mode with Knative's error attributes. */
function deadLetter(event: AnyUpshiftEvent, status: number, reason: string, to: FunctionUnderTest['fn'] = t.fn): Promise<HandleResult> {
  const headers = { 'ce-knativeerrordest': 'http://upshift-migrate-shard.upshift.svc', 'ce-knativeerrorcode': String(status), 'ce-knativeerrordata': reason };
  return to.handle({ headers }, event);
}

const shardRequest = (runId: string) => fixtureEvent('shard.requested', (data) => ({ ...data, runId, shardId: shardIdFor(runId, ref, 0), migration: ref }));

async function deadLetterStep(runId: string) {
  return (await viewSteps(t.store, runId, 'dead-letter'))[0];
}

test('a transient dead letter is redriven as it was; the second time past the limit the run rolls back, naming the event', { timeout: 30_000 }, async () => {
  const runId = await seedRun(2);
  const lost = shardRequest(runId);
  const started = Date.now();
  const first = await deadLetter(lost, 503, 'upstream connect error');
  assert.equal(first.statusCode, 200, JSON.stringify(first.body));
  assert.ok(Date.now() - started >= 1900, 'the redrive waited out its backoff');
  assert.deepEqual(first.body['outputs'], [], 'a redrive emits nothing new');
  const [again] = await t.published([lost.id]);
  assert.equal(again?.type, lost.type, 'the same event, same id, is published again');
  const step = await deadLetterStep(runId);
  assert.deepEqual([step?.key, step?.status, step?.attempt], [lost.id, 'running', 1]);

  const second = await deadLetter(lost, 503, 'upstream connect error');
  assert.equal(second.statusCode, 200);
  const [rollback] = await t.outputsOf(second);
  assert.equal(rollback?.type, 'dev.upshift.rollback.requested.v1', 'migrations ran: the data is restored first');
  assert.match((rollback?.data as { reason: string }).reason, new RegExp(`shard.requested.v1 ${lost.id} .* dead-lettered again after 1 redrive\\(s\\): HTTP 503: upstream connect error`));
  assert.equal((await readRunFacts(t.store, runId))?.status, 'rolling-back');
  assert.equal((await deadLetterStep(runId))?.status, 'failed');
});

test('a refused dead letter (400) fails the run at once; without migrated data the images go back', { timeout: 20_000 }, async () => {
  const runId = await seedRun(0);
  const check = fixtureEvent('rollout.wave.check', (data) => ({ ...data, runId, wave: 0 }));
  const result = await deadLetter(check, 400, 'contract violation');
  const [revert] = await t.outputsOf(result);
  assert.equal(revert?.type, 'dev.upshift.image.revert.requested.v1');
  assert.equal((revert?.data as { stage: string }).stage, 'rollout');
  assert.equal((await readRunFacts(t.store, runId))?.status, 'rolling-back');
});

test('a dead letter of a run that already ended is recorded, nothing else', { timeout: 20_000 }, async () => {
  const runId = await seedRun(1);
  await withTransaction(t.store, (tx) => setRunStatus(tx, runId, 'completed'));
  const result = await deadLetter(shardRequest(runId), 503, 'late');
  assert.deepEqual(result.body['outputs'], []);
  assert.equal((await deadLetterStep(runId))?.status, 'completed');
  assert.equal((await readRunFacts(t.store, runId))?.status, 'completed');
});

test('a request dead-lettered before plan took it: the run is recorded failed, so nobody waits on it', { timeout: 20_000 }, async () => {
  const runId = uuidv7();
  const request = fixtureEvent('upgrade.requested', (data) => ({ ...data, runId }));
  const result = await deadLetter(request, 503, 'plan unavailable');
  const [failed] = await t.outputsOf(result);
  assert.equal(failed?.type, 'dev.upshift.upgrade.failed.v1');
  assert.match((failed?.data as { reason: string }).reason, /was dead-lettered before the run was planned: HTTP 503: plan unavailable/);
  assert.equal((await readRunFacts(t.store, runId))?.status, 'failed');
});

test('a function that does not consume dead letters refuses one with 400', { timeout: 20_000 }, async () => {
  const plan = await startFunction(defineFunction({ name: 'plan', async handle() {} }));
  try {
    const result = await deadLetter(shardRequest(uuidv7()), 503, 'x', plan.fn);
    assert.equal(result.statusCode, 400);
    assert.match(JSON.stringify(result.body), /does not consume dead letters/);
  } finally {
    await plan.stop();
  }
});
