/**
 * A worker killed mid-shard does not hang the run: migrate-shard (a child process of `upshift dev`,
 * restarted like a pod) is SIGKILLed while it works a shard, under the default delivery policy and the
 * default shard lease TTL (15 s). The delivery in flight fails, is refused while the process restarts
 * (connection refused) and while the dead worker's lease lasts (409 LEASE_HELD), and is retried until
 * the lease expires — the retry window outlasts both by construction (`@upshift/runtime/delivery`).
 * The run completes with the data an undisturbed run leaves, every row changed once, no dead letter,
 * and no 429 (the shard slots follow what the dispatcher sends).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEAD_LETTER_TOPIC, isEventOf } from '@upshift/events';
import { SHARD_LEASE_TTL_DEFAULT_MS } from '../../functions/migrate-shard/src/config.ts';
import { expectedOrdersChecksum, migratedOrdersChecksum, startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { collect } from '../../runtime/test/support/stack.ts';
import { deliveryTally, migrationsOf, requestOrdersRun, runEnds, seedCountedOrders, touches, until } from './shard-run.ts';

const shards = 4;
const rows = 4000;
const { tally, onOutcome } = deliveryTally();
let t: ShardTest;

before(async () => {
  t = await startShardTest({
    functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process',
    extraEnv: { UPSHIFT_SHARD_LEASE_TTL_MS: String(SHARD_LEASE_TTL_DEFAULT_MS) },
    dev: { retry: {}, onOutcome },
  });
});

after(async () => {
  await t?.stop();
});

/** The shard steps of a run: status and rows scanned so far. */
async function shardProgress(runId: string): Promise<Array<{ status: string; scanned: number }>> {
  const { rows: steps } = await t.control.query<{ status: string; scanned: number | null }>(
    `SELECT status, (checkpoint->'checkpoint'->>'scanned')::int AS scanned FROM upshift.steps WHERE run_id = $1 AND kind = 'shard'`, [runId]);
  return steps.map((s) => ({ status: s.status, scanned: s.scanned ?? 0 }));
}

test('kill -9 of migrate-shard mid-shard: the run completes with the undisturbed result, no dead letter', { timeout: 90_000 }, async () => {
  await seedCountedOrders(t.shop, rows, 2);
  const expected = await expectedOrdersChecksum(t.shop);
  const deadLetters = await collect(t.harness.env, `${t.harness.prefix}${DEAD_LETTER_TOPIC}`);
  const worker = t.harness.dev.functions.find((f) => f.name === 'migrate-shard');
  const run = await requestOrdersRun(t, shards, 50);
  try {
    const midShard = await until(async () => {
      const working = (await shardProgress(run.runId)).find((s) => s.status === 'running' && s.scanned >= 200 && s.scanned < rows / shards - 200);
      return working;
    }, 60_000, 'no shard was half-way');
    const victim = worker?.child;
    assert.ok(victim?.pid, 'migrate-shard runs as a process');
    victim.kill('SIGKILL');
    const fault = Date.now();
    const end = await t.harness.waitFor(run.runId, [...runEnds], 80_000);
    const faultToEnd = Date.now() - fault;
    console.log(`kill -9 of migrate-shard (pid ${victim.pid}) with a shard at ${midShard.scanned}/${rows / shards} rows: ${end.type} ${faultToEnd} ms later (lease TTL ${SHARD_LEASE_TTL_DEFAULT_MS} ms; a delivery took up to ${tally.mostAttempts['migrate-shard'] ?? 0} attempts)`);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    const [[ref, shardCount, counted] = ['', 0, 0]] = migrationsOf(end);
    assert.deepEqual([ref, shardCount], ['orders-currency@1', shards]);
    // Exact even though a batch may have committed in the shop database while its checkpoint write died
    // with the process: a finished shard counts its rows from its backup, not from its checkpoints.
    assert.equal(counted, rows, 'every row counted once');
    assert.equal(await migratedOrdersChecksum(t.shop), expected, 'the same data as an undisturbed run');
    assert.deepEqual(await touches(t.shop), { max: 1, once: rows }, 'no row changed twice: the shard resumed from its checkpoint');
    assert.notEqual(worker?.child?.pid, victim.pid, 'the worker was restarted');
    assert.deepEqual(tally.deadLetters, [], 'no delivery was dead-lettered');
    assert.equal(deadLetters.messages.length, 0, 'the dead-letter topic is empty');
    assert.equal(tally.throttled, 0, 'no 429: the shard slots follow what the dispatcher sends');
    assert.ok((tally.mostAttempts['migrate-shard'] ?? 0) > 2, 'the fault was absorbed by retries (refused, then the lease held)');
  } finally {
    await deadLetters.stop();
    await run.remove();
  }
});
