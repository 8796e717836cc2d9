/**
 * Operator controls on the real stack (plan, rollout, migrate-shard and verify as processes under
 * `upshift dev`, Kafka, PostgreSQL, a kwok cluster): a whole run of one service with the orders-currency
 * migration over an `orders` table whose rows count their updates and cost a little time each.
 * - pause mid-migration: rows stop within one batch per shard (the pause latency is printed: control
 *   published → last batch ends), the run stays paused across a kill -9 of migrate-shard, and the resume
 *   completes it with the data an undisturbed run leaves, every row changed once; the same control id
 *   twice acts once; a control of an ended or unknown run is answered `ignored`, with why;
 * - throttle (through the CLI, `--wait`): the rows per second drop (the ratio is printed);
 * - abort mid-migration: the failure policy applies as a failing stage would — the run rolls back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { entryFor, isEventOf, publishRunControl, uuidv7, type AnyUpshiftEvent, type ControlAction, type EventData, type RunControlRequested } from '@upshift/events';
import { expectedOrdersChecksum, migratedOrdersChecksum, ordersChecksum, startShardTest, type ShardTest } from '../functions/migrate-shard/test/support.ts';
import { brokersOf } from '../runtime/test/support/stack.ts';
import { migrationsOf, requestOrdersRun, runEnds, seedCountedOrders, touches, until } from './faults/shard-run.ts';

const shards = 4;
const rows = 8000;
const msPerRow = 3;
const repoRoot = fileURLToPath(new URL('../', import.meta.url));
let t: ShardTest;

before(async () => {
  t = await startShardTest({ functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process' });
});

after(async () => {
  await t?.stop();
});

/** Rows the migration changed so far. */
async function changedRows(): Promise<number> {
  const { rows: [row] } = await t.shop.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE touches > 0');
  return row?.n ?? 0;
}

/** The shard steps of a run: status, rows scanned, batches committed. */
async function shardSteps(runId: string): Promise<Array<{ shardId: string; status: string; scanned: number; batches: number }>> {
  const { rows: steps } = await t.control.query<{ key: string; status: string; scanned: number | null; batches: number | null }>(
    `SELECT key, status, (checkpoint->'checkpoint'->>'scanned')::int AS scanned, (checkpoint->'checkpoint'->>'batches')::int AS batches
       FROM upshift.steps WHERE run_id = $1 AND kind = 'shard' ORDER BY key`, [runId]);
  return steps.map((s) => ({ shardId: s.key, status: s.status, scanned: s.scanned ?? 0, batches: s.batches ?? 0 }));
}

/** Ends a run a failed test left active, so the next test's run may take the same targets. */
async function abandon(runId: string): Promise<void> {
  await t.control.query(`UPDATE upshift.runs SET status = 'abandoned', finished_at = now() WHERE id = $1 AND finished_at IS NULL`, [runId]);
  await t.control.query('UPDATE upshift.run_targets SET released_at = now() WHERE run_id = $1 AND released_at IS NULL', [runId]);
}

/**
 * Waits until the migration is well under way: some shard past 300 rows, none finished (shards whose ids
 * land on one partition of migrate-shard's topic are delivered one after the other, so not all run at once).
 */
async function midMigration(runId: string): Promise<void> {
  let seen: unknown = [];
  await until(async () => {
    const steps = await shardSteps(runId);
    seen = steps;
    return steps.length === shards && steps.some((s) => s.scanned >= 300) && steps.every((s) => s.status === 'running' || s.status === 'pending') ? true : undefined;
  }, 60_000, 'the migration did not get under way').catch((error: unknown) => {
    throw new Error(`${(error as Error).message}: shards ${JSON.stringify(seen)}, events ${t.harness.eventsOf(runId).map((e) => e.type.replace(/^dev\.upshift\./, '')).join(', ')}`);
  });
}

async function control(runId: string, action: ControlAction, extra: Partial<RunControlRequested> = {}): Promise<RunControlRequested> {
  const data: RunControlRequested = { runId, controlId: randomUUID(), action, requestedBy: 'test@controls', ...extra };
  await publishRunControl({ clientId: 'controls-test', brokers: brokersOf(t.harness.env) }, data, { producer: 'cli', topicPrefix: t.harness.prefix });
  return data;
}

/** The answers to a control id, once there are `count` of them. */
async function answers(runId: string, controlId: string, count = 1): Promise<Array<EventData<'run.control.applied'>>> {
  return until(async () => {
    const found = t.harness.eventsOf(runId).filter((e): e is AnyUpshiftEvent & { type: 'dev.upshift.run.control.applied.v1' } => isEventOf(e, 'run.control.applied'))
      .map((e) => e.data as EventData<'run.control.applied'>).filter((a) => a.controlId === controlId);
    return found.length >= count ? found : undefined;
  }, 20_000, `no answer to control ${controlId}`);
}

/** Samples the changed rows every 25 ms until they have not moved for `quietMs`: the count and when it last moved. */
async function settle(quietMs: number): Promise<{ rows: number; lastChangeAt: number }> {
  let last = await changedRows();
  let lastChangeAt = Date.now();
  while (Date.now() - lastChangeAt < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = await changedRows();
    if (now !== last) {
      last = now;
      lastChangeAt = Date.now();
    }
  }
  return { rows: last, lastChangeAt };
}

/** Rows changed per second over `ms`. */
async function rate(ms: number): Promise<number> {
  const from = await changedRows();
  const startedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((await changedRows()) - from) / ((Date.now() - startedAt) / 1000);
}

test('pause mid-migration stops the rows within one batch, survives a kill -9 of migrate-shard, and resume completes the run', { timeout: 90_000 }, async () => {
  await seedCountedOrders(t.shop, rows, msPerRow);
  const expected = await expectedOrdersChecksum(t.shop);
  const run = await requestOrdersRun(t, shards, 50);
  try {
    await midMigration(run.runId);
    const publishedAt = Date.now();
    const pause = await control(run.runId, 'pause', { reason: 'peak hour' });
    const [answer] = await answers(run.runId, pause.controlId);
    const answeredAt = Date.now();
    const [atAnswer, batchesAtAnswer] = [await changedRows(), await shardSteps(run.runId)];
    assert.deepEqual([answer?.outcome, answer?.state.paused], ['applied', true], answer?.message);
    const stopped = await settle(2500);
    const batchesAfter = (await shardSteps(run.runId)).map((s, i) => s.batches - (batchesAtAnswer[i]?.batches ?? 0));
    console.log(`pause latency: control published → last batch ended ${stopped.lastChangeAt - publishedAt} ms (answer after ${answeredAt - publishedAt} ms); `
      + `after the answer ${stopped.rows - atAnswer} rows in [${batchesAfter.join(', ')}] batches per shard; ${stopped.rows}/${rows} rows done`);
    assert.ok(stopped.rows < rows, 'paused before the end');
    assert.ok(batchesAfter.every((n) => n <= 1), `at most one batch per shard after the pause was answered: ${batchesAfter.join(', ')}`);

    // The same control id again: acts once, answered again with the first answer.
    await publishRunControl({ clientId: 'controls-test', brokers: brokersOf(t.harness.env) }, pause, { producer: 'cli', topicPrefix: t.harness.prefix });
    const twice = await answers(run.runId, pause.controlId, 2);
    assert.deepEqual(twice[1], twice[0]);
    const { rows: [logged] } = await t.control.query<{ n: number }>('SELECT count(*)::int AS n FROM upshift.run_control_log WHERE control_id = $1', [pause.controlId]);
    assert.equal(logged?.n, 1, 'decided once');

    const status = await promisify(execFile)(process.execPath, ['cli/src/upshift.ts', 'status', run.runId, '--database-url', t.harness.databaseUrl], { cwd: repoRoot, encoding: 'utf8' });
    assert.match(status.stdout, /^control\n {2}paused since .* UTC \(.* paused in all, \d+ held\); not throttled; last changed by test@controls/m, status.stdout);
    assert.match(status.stdout, /pause\s+applied\s+test@controls\s+paused by test@controls: peak hour/);

    const worker = t.harness.dev.functions.find((f) => f.name === 'migrate-shard');
    const victim = worker?.child;
    assert.ok(victim?.pid, 'migrate-shard runs as a process');
    victim.kill('SIGKILL');
    await until(async () => (worker?.child?.pid && worker.child.pid !== victim.pid ? true : undefined), 20_000, 'migrate-shard was not restarted');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(await changedRows(), stopped.rows, 'still paused after migrate-shard restarted');
    const { rows: [held] } = await t.control.query<{ n: number }>('SELECT count(*)::int AS n FROM upshift.held_events WHERE run_id = $1', [run.runId]);
    assert.ok((held?.n ?? 0) >= 1, 'the paused shards\' continuations are held');

    const resume = await control(run.runId, 'resume');
    const [resumed] = await answers(run.runId, resume.controlId);
    assert.equal(resumed?.outcome, 'applied', resumed?.message);
    assert.ok((resumed?.state.pausedMs ?? 0) >= 5000, `the pause is counted: ${resumed?.state.pausedMs} ms`);
    const end = await t.harness.waitFor(run.runId, [...runEnds], 60_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.deepEqual(migrationsOf(end), [['orders-currency@1', shards, rows]]);
    assert.equal(await migratedOrdersChecksum(t.shop), expected, 'the data an undisturbed run leaves');
    assert.deepEqual(await touches(t.shop), { max: 1, once: rows }, 'every row changed once');

    const late = await control(run.runId, 'pause');
    const [ended] = await answers(run.runId, late.controlId);
    assert.deepEqual([ended?.outcome, ended?.message], ['ignored', 'ignored: the run has ended (completed)']);
    const unknownRun = uuidv7();
    const stray = await control(unknownRun, 'abort');
    const [unknown] = await answers(unknownRun, stray.controlId);
    assert.deepEqual([unknown?.outcome, unknown?.message], ['ignored', 'ignored: the run is unknown to the control store']);
  } finally {
    await abandon(run.runId);
    await run.remove();
  }
});

test('throttle through the CLI: the rows per second drop from the next batch', { timeout: 90_000 }, async () => {
  await seedCountedOrders(t.shop, rows, msPerRow);
  const run = await requestOrdersRun(t, shards, 50);
  try {
    await midMigration(run.runId);
    const before = await rate(1500);
    const cli = await promisify(execFile)(process.execPath, [
      'cli/src/upshift.ts', 'throttle', run.runId, '--rows-per-second', '25', '--wait', '--as', 'test@cli',
      '--brokers', brokersOf(t.harness.env).join(','), '--topic-prefix', t.harness.prefix,
    ], { cwd: repoRoot, encoding: 'utf8' });
    assert.match(cli.stdout, /^throttle applied \(asked by test@cli\): throttled to 25 rows\/s per shard/m);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the batches in flight end, pacing starts
    const throttled = await rate(3000);
    console.log(`throttle to 25 rows/s per shard (${shards} shards): ${before.toFixed(0)} → ${throttled.toFixed(0)} rows/s, ratio ${(throttled / before).toFixed(2)}`);
    assert.ok(throttled < before * 0.6, `the rate dropped: ${before.toFixed(0)} → ${throttled.toFixed(0)} rows/s`);
    assert.ok(throttled <= shards * 25 * 2, `near the throttle: ${throttled.toFixed(0)} rows/s`);
    const clear = await control(run.runId, 'throttle', { throttle: {} });
    assert.equal((await answers(run.runId, clear.controlId))[0]?.outcome, 'applied');
    const end = await t.harness.waitFor(run.runId, [...runEnds], 60_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.deepEqual(await touches(t.shop), { max: 1, once: rows }, 'every row changed once');
  } finally {
    await abandon(run.runId);
    await run.remove();
  }
});

test('abort mid-migration applies the failure policy now: the run rolls back, the data as it was', { timeout: 90_000 }, async () => {
  await seedCountedOrders(t.shop, rows, msPerRow);
  const original = await ordersChecksum(t.shop);
  const run = await requestOrdersRun(t, shards, 50);
  try {
    await midMigration(run.runId);
    const abort = await control(run.runId, 'abort', { reason: 'wrong target' });
    const [answer] = await answers(run.runId, abort.controlId);
    assert.equal(answer?.outcome, 'applied', answer?.message);
    const end = await t.harness.waitFor(run.runId, [...runEnds], 80_000);
    assert.ok(isEventOf(end, 'upgrade.rolled-back'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.equal((end.data as { reason: string }).reason, 'aborted by test@controls: wrong target');
    assert.equal(await ordersChecksum(t.shop), original, 'every row as before the run');
    assert.ok(t.harness.eventsOf(run.runId).every((e) => e.type !== entryFor('upgrade.completed').type));
  } finally {
    await abandon(run.runId);
    await run.remove();
  }
});
