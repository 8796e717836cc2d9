/**
 * verify's handling of operator controls (real control store, fixture events): a control acts once per
 * control id and always answers `run.control.applied`; a pause holds the run's next stage (the fan-in's
 * next wave) until the resume releases it; an abort applies the failure policy as a failing stage would;
 * a failed shard is requested again; unknown and ended runs are answered `ignored` with why; the
 * watchdog leaves a paused run alone and counts the resume as progress.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { fixture, isEventOf, shardIdFor, uuidv7, type AnyUpshiftEvent, type EventData, type RunPlan } from '@upshift/events';
import { readRunControl, readRunFacts, recordShards, savePlan, setRunStatus, startRun, viewRunControl, viewSteps, withTransaction } from '@upshift/runtime';
import { eventually } from '../../../runtime/test/support/stack.ts';
import fn from '../src/index.ts';
import { fixtureEvent, startFunction, type FunctionUnderTest } from '../../../test/support/handler.ts';

const ref = 'orders-currency@1';
let t: FunctionUnderTest;

before(async () => {
  t = await startFunction(fn, {
    UPSHIFT_CATALOG_DIR: fileURLToPath(new URL('../../../examples/catalog/', import.meta.url)),
    UPSHIFT_WATCHDOG_INTERVAL_MS: '250', UPSHIFT_STALL_AFTER_MS: '1500', UPSHIFT_STALL_NUDGES: '0',
  });
});

after(async () => {
  await t?.stop();
});

/** A running run of two waves with a migration of `shards` shards after the first (their steps recorded). */
async function seedRun(shards: number, failurePolicy: 'rollback' | 'freeze' = 'rollback'): Promise<{ runId: string; shards: string[] }> {
  const runId = uuidv7();
  const template = fixture('upgrade.planned').data.waves[0]?.targets[0];
  assert.ok(template);
  const ids = Array.from({ length: shards }, (_, i) => shardIdFor(runId, ref, i));
  const plan: RunPlan = {
    runId, policyName: 'controls', dryRun: false, clusters: [],
    waves: [{ index: 0, targets: [template] }, { index: 1, targets: [{ ...template, service: 'second' }] }],
    strategy: { maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 60, failurePolicy, contract: false },
    migrations: [{ ref, store: 'postgres', shards, batchSize: 500, backup: true, afterWave: 0 }],
  };
  await withTransaction(t.store, async (tx) => {
    await startRun(tx, runId, { policy: fixture('upgrade.requested').data.policy }, []);
    await savePlan(tx, plan);
    await recordShards(tx, runId, ids.map((shardId, index) => ({ shardId, checkpoint: { migration: ref, index } })));
  });
  return { runId, shards: ids };
}

function control(runId: string, action: EventData<'run.control.requested'>['action'], extra: Partial<EventData<'run.control.requested'>> = {}) {
  return fixtureEvent('run.control.requested', () => ({ runId, controlId: randomUUID(), action, requestedBy: 'ana@ops', ...extra }));
}

/** Handles an event and returns what it emitted (held events are not in the outbox: `outbox` has the rest). */
async function handle(event: unknown): Promise<AnyUpshiftEvent[]> {
  const result = await t.handle(event);
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  const ids = (result.body['outputs'] as string[]).map(String);
  const { rows } = await t.store.query<{ event: AnyUpshiftEvent }>('SELECT event FROM upshift.outbox WHERE id = ANY($1::text[]) ORDER BY seq', [ids]);
  return rows.map((row) => row.event);
}

function answerOf(outputs: AnyUpshiftEvent[]): EventData<'run.control.applied'> {
  const answer = outputs.find((e) => isEventOf(e, 'run.control.applied'));
  assert.ok(answer, `no run.control.applied in ${outputs.map((e) => e.type).join(', ')}`);
  return answer.data as EventData<'run.control.applied'>;
}

const completed = (runId: string, shardId: string) => fixtureEvent('shard.completed', (data) => ({ ...data, runId, shardId, migration: ref }));

test('a pause holds the next wave the fan-in asks for; the resume publishes it', { timeout: 20_000 }, async () => {
  const { runId, shards } = await seedRun(2);
  const pause = control(runId, 'pause', { reason: 'peak hour' });
  const paused = answerOf(await handle(pause));
  assert.deepEqual([paused.outcome, paused.state.paused, paused.requestedBy], ['applied', true, 'ana@ops']);
  assert.match(paused.message, /^paused by ana@ops: peak hour/);

  await handle(completed(runId, shards[0]!));
  const last = await handle(completed(runId, shards[1]!));
  assert.deepEqual(last, [], 'the next wave is not in the outbox while the run is paused');
  const view = await viewRunControl(t.store, runId);
  assert.deepEqual([view?.paused, view?.held, view?.updatedBy], [true, 1, 'ana@ops']);

  const resumed = answerOf(await handle(control(runId, 'resume')));
  assert.deepEqual([resumed.outcome, resumed.state.paused], ['applied', false]);
  assert.ok(resumed.state.pausedMs > 0, 'the pause is added to the time paused');
  const { rows } = await t.store.query<{ id: string; event: AnyUpshiftEvent }>(
    `SELECT id, event FROM upshift.outbox WHERE partition_key = $1 AND type = 'dev.upshift.rollout.wave.requested.v1'`, [runId]);
  assert.equal(rows.length, 1, 'the held wave went to the outbox');
  assert.equal((rows[0]!.event.data as { wave: number }).wave, 1);
  await t.published([rows[0]!.id]);
  assert.equal((await viewRunControl(t.store, runId))?.held, 0);
});

test('a control id acts once: the same control again gets the same answer and changes nothing', { timeout: 20_000 }, async () => {
  const { runId } = await seedRun(1);
  const pause = control(runId, 'pause');
  const first = answerOf(await handle(pause));
  const sameControl = fixtureEvent('run.control.requested', () => structuredClone(pause.data) as EventData<'run.control.requested'>); // a new event id
  const again = answerOf(await handle(sameControl));
  assert.deepEqual(again, first, 'the stored answer, again');
  const secondPause = answerOf(await handle(control(runId, 'pause')));
  assert.deepEqual([secondPause.outcome, secondPause.message.startsWith('ignored: already paused since')], ['ignored', true]);
  assert.equal((await viewRunControl(t.store, runId))?.history.length, 2, 'two controls decided, the duplicate not counted');
});

test('throttle is stored for the shards; a throttle without limits is ignored', { timeout: 20_000 }, async () => {
  const { runId } = await seedRun(1);
  const set = answerOf(await handle(control(runId, 'throttle', { throttle: { rowsPerSecond: 500, pauseMs: 20 } })));
  assert.deepEqual([set.outcome, set.state.throttle], ['applied', { rowsPerSecond: 500, pauseMs: 20 }]);
  assert.deepEqual((await readRunControl(t.store, runId)).throttle, { rowsPerSecond: 500, pauseMs: 20 });
  const missing = answerOf(await handle(control(runId, 'throttle')));
  assert.equal(missing.outcome, 'ignored');
});

test('abort applies the failure policy as a failing stage would, naming who asked; the held work is dropped', { timeout: 20_000 }, async () => {
  const { runId, shards } = await seedRun(1);
  await handle(control(runId, 'pause'));
  await handle(completed(runId, shards[0]!));
  assert.equal((await viewRunControl(t.store, runId))?.held, 1);
  const outputs = await handle(control(runId, 'abort', { reason: 'wrong images' }));
  const answer = answerOf(outputs);
  assert.deepEqual([answer.outcome, answer.state.paused], ['applied', false]);
  const rollback = outputs.find((e) => isEventOf(e, 'rollback.requested'));
  assert.ok(rollback, 'the data is restored first');
  assert.equal((rollback.data as { reason: string }).reason, 'aborted by ana@ops: wrong images');
  assert.equal((await readRunFacts(t.store, runId))?.status, 'rolling-back');
  assert.equal((await viewRunControl(t.store, runId))?.held, 0, 'the next wave will never come');
  const late = answerOf(await handle(control(runId, 'abort')));
  assert.deepEqual([late.outcome, late.message], ['ignored', 'ignored: the run is rolling back: its compensations are not controlled']);
});

test('abort of a frozen-policy run freezes it: upgrade.failed', { timeout: 20_000 }, async () => {
  const { runId } = await seedRun(1, 'freeze');
  const outputs = await handle(control(runId, 'abort'));
  const failed = outputs.find((e) => isEventOf(e, 'upgrade.failed'));
  assert.ok(failed);
  assert.match((failed.data as { reason: string }).reason, /aborted by ana@ops/);
  assert.equal((await readRunFacts(t.store, runId))?.status, 'failed');
});

test('a failed shard is requested again from its checkpoint while the other shards go on', { timeout: 20_000 }, async () => {
  const { runId, shards } = await seedRun(2);
  const [failing] = shards;
  assert.ok(failing);
  const original = fixtureEvent('shard.requested', (data) => ({ ...data, runId, shardId: failing, migration: ref }));
  await t.store.query(`INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event, sent_at) VALUES ($1, $2, $3, 'mem.upshift.migrate-shard', $4, $5, now())`,
    [original.source, original.id, original.type, original.partitionkey, JSON.stringify(original)]);
  await t.store.query(`UPDATE upshift.steps SET status = 'failed' WHERE run_id = $1 AND kind = 'shard' AND key = $2`, [runId, failing]);
  await handle(fixtureEvent('shard.failed', (data) => ({ ...data, runId, shardId: failing, migration: ref })));
  assert.equal((await readRunFacts(t.store, runId))?.status, 'running', 'the other shard is still going');

  const outputs = await handle(control(runId, 'retry', { target: { kind: 'shard', shardId: failing } }));
  assert.equal(answerOf(outputs).outcome, 'applied');
  const again = outputs.find((e) => isEventOf(e, 'shard.requested'));
  assert.ok(again, 'the shard is requested again');
  assert.deepEqual(again.data, original.data);
  const steps = await viewSteps(t.store, runId);
  assert.equal(steps.find((s) => s.kind === 'shard' && s.key === failing)?.status, 'pending');
  assert.equal(steps.some((s) => s.kind === 'fanin' && s.key === failing), false, 'the fan-in waits for it again');
  const notFailed = answerOf(await handle(control(runId, 'retry', { target: { kind: 'shard', shardId: shards[1]! } })));
  assert.match(notFailed.message, /only a failed shard is retried/);
});

test('controls of an unknown or ended run are answered ignored, with why', { timeout: 20_000 }, async () => {
  const unknown = answerOf(await handle(control(uuidv7(), 'pause')));
  assert.deepEqual([unknown.outcome, unknown.message], ['ignored', 'ignored: the run is unknown to the control store']);
  const { runId } = await seedRun(1);
  await withTransaction(t.store, (tx) => setRunStatus(tx, runId, 'completed'));
  const ended = answerOf(await handle(control(runId, 'abort')));
  assert.deepEqual([ended.outcome, ended.message], ['ignored', 'ignored: the run has ended (completed)']);
});

test('the watchdog leaves a paused run alone and counts its resume as progress', { timeout: 30_000 }, async () => {
  const { runId } = await seedRun(1);
  await handle(control(runId, 'pause'));
  await new Promise((resolve) => setTimeout(resolve, 4000)); // well past UPSHIFT_STALL_AFTER_MS, several sweeps
  assert.equal((await readRunFacts(t.store, runId))?.status, 'running', 'a paused run waits for its operator');
  assert.deepEqual(await viewSteps(t.store, runId, 'watchdog'), []);
  const resumedAt = Date.now();
  await handle(control(runId, 'resume'));
  // Nothing is pending for this seeded run, so once idle again the watchdog fails it — counted from the resume.
  const failedAt = await eventually(async () => ((await readRunFacts(t.store, runId))?.status === 'rolling-back' ? Date.now() : undefined), 15_000);
  assert.ok(failedAt - resumedAt >= 1500, `the watchdog counted from the resume (${failedAt - resumedAt} ms)`);
});
