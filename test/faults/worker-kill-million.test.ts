/**
 * Five kills of one worker over a million rows (issue 15): a whole run migrates 1,000,000 `orders` rows
 * in 8 shards while migrate-shard (a child process of `upshift dev`, restarted like a pod) is SIGKILLed
 * five times, at moments a seeded draw picks over the migration (fractions of the rows done, read from
 * the shards' checkpoints; `UPSHIFT_TEST_SEED=<seed>` replays a printed seed). Each kill takes down
 * every shard in flight; the next kill waits until all of them have resumed under the restarted process,
 * which takes over the dead worker's leases once they expire (TTL shortened to 3 s).
 *
 * Retries: the dispatcher, like a KafkaSource, counts a delivery's retries across kills. Under the
 * product's policy (8 retries, backoff doubling from 400 ms, made for one crash per delivery and held
 * to it by worker-kill.test.ts) a shard invocation hit by kill after kill waits 6.4, 12.8, 25.6 s…: runs
 * measured 85–200 s, one delivery needing all 9 of its attempts. Here a steady retry of at most 1 s
 * (120 retries, about two minutes per delivery) keeps each takeover at the lease TTL plus the restart.
 *
 * The run completes with the data an independent computation expects, every row changed exactly once,
 * one backup row per changed row, the exact row count reported, and no dead letter.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEAD_LETTER_TOPIC, isEventOf } from '@upshift/events';
import { expectedOrdersChecksum, migratedOrdersChecksum, startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { collect } from '../../runtime/test/support/stack.ts';
import {
  deliveryTally, migrationsOf, ordersBackup, requestOrdersRun, resumption, rowsDone, runEnds, seedCountedOrders, seededFractions,
  shardCheckpoints, touches, until, type ShardCheckpointSeen,
} from './shard-run.ts';
import { seedLine, testSeed } from '../support/seeded-random.ts';

const rows = 1_000_000;
const shards = 8;
/** The first batch of each shard; the engine then sizes batches to about 200 ms each (thousands of rows). */
const batchSize = 1000;
const kills = 5;
/** Short enough that five takeovers cost seconds, not 5 × 15 s; the heartbeat renews it every second. */
const leaseTtlMs = 3000;
/** At most 1 s between attempts, 120 retries (about 2 min): several kills of one delivery never exhaust it (see above). */
const steadyRetry = { retries: 120, backoffDelayMs: 100, maxDelayMs: 1000 };
const seed = testSeed();
const { tally, onOutcome } = deliveryTally();
let t: ShardTest;

before(async () => {
  t = await startShardTest({
    functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process',
    extraEnv: { UPSHIFT_SHARD_LEASE_TTL_MS: String(leaseTtlMs) },
    dev: { retry: steadyRetry, onOutcome },
  });
});

after(async () => {
  await t?.stop();
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const count = (n: number) => n.toLocaleString('en');

test(`kill -9 of migrate-shard ${kills} times during a ${count(rows)}-row run: completes with the undisturbed result (seed ${seed})`, { timeout: 300_000 }, async () => {
  console.log(seedLine(seed));
  const seeding = performance.now();
  await seedCountedOrders(t.shop, rows, 0);
  const expected = await expectedOrdersChecksum(t.shop);
  console.log(`seeded ${count(rows)} rows and computed the expected checksum in ${seconds(performance.now() - seeding)}`);
  const deadLetters = await collect(t.harness.env, `${t.harness.prefix}${DEAD_LETTER_TOPIC}`);
  const worker = t.harness.dev.functions.find((f) => f.name === 'migrate-shard');
  const targets = seededFractions(seed, kills, 0.05, 0.9).map((fraction) => Math.round(fraction * rows));
  const requested = performance.now();
  const run = await requestOrdersRun(t, shards, batchSize);
  const checkpoints = () => shardCheckpoints(t.control, run.runId);
  try {
    const victims = new Set<number>();
    let lastKillAt = 0;
    for (const [index, target] of targets.entries()) {
      const before = await until(async () => {
        const seen = await checkpoints();
        return rowsDone(seen) >= target ? seen : undefined;
      }, 120_000, `the run did not reach ${target} rows`);
      const victim = worker?.child;
      assert.ok(victim?.pid, 'migrate-shard runs as a process');
      assert.ok(!victims.has(victim.pid), 'each kill hits the process restarted after the one before');
      victims.add(victim.pid);
      victim.kill('SIGKILL');
      lastKillAt = performance.now();
      const resumed = await resumeTimes(before, checkpoints, lastKillAt, index + 1);
      const running = [...before.values()].filter((shard) => shard.status === 'running').length;
      assert.ok(running > 0, `kill ${index + 1} met shards at work`);
      console.log(`kill ${index + 1}/${kills} (seed ${seed}): pid ${victim.pid} at ${count(rowsDone(before))} rows done (drawn: ${count(target)}), ${running} shards running;`
        + ` the first resumed ${seconds(resumed.firstMs)} later, all ${running} ${seconds(resumed.allMs)} later`);
    }
    const end = await t.harness.waitFor(run.runId, [...runEnds], 240_000);
    const finished = performance.now();
    console.log(`last kill → ${end.type} in ${seconds(finished - lastKillAt)}; request → end ${seconds(finished - requested)}; a migrate-shard delivery took up to ${tally.mostAttempts['migrate-shard'] ?? 0} attempts`);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.deepEqual(migrationsOf(end), [['orders-currency@1', shards, rows]], 'every row counted once, also those of batches whose checkpoint died with a worker');
    assert.equal(await migratedOrdersChecksum(t.shop), expected, 'the same data as an undisturbed run');
    assert.deepEqual(await touches(t.shop), { max: 1, once: rows }, 'every row changed exactly once');
    assert.deepEqual(await ordersBackup(t.shop), { rows, strays: 0 }, 'one backup row per changed row, none for another');
    assert.ok(worker?.child?.pid !== undefined && !victims.has(worker.child.pid), 'the worker was restarted after the last kill');
    assert.deepEqual(tally.deadLetters, [], 'no delivery was dead-lettered');
    assert.equal(deadLetters.messages.length, 0, 'the dead-letter topic is empty');
  } finally {
    await deadLetters.stop();
    await run.remove();
  }
});

/** Waits until every shard running at the kill has resumed under the restarted worker; when the first and the last did. */
async function resumeTimes(
  before: ReadonlyMap<string, ShardCheckpointSeen>, checkpoints: () => Promise<Map<string, ShardCheckpointSeen>>, killedAt: number, kill: number,
): Promise<{ firstMs: number; allMs: number }> {
  let firstMs: number | undefined;
  await until(async () => {
    const { first, all } = resumption(before, await checkpoints());
    if (first) firstMs ??= performance.now() - killedAt;
    return all ? true : undefined;
  }, 120_000, `the shards did not all resume after kill ${kill}`);
  const allMs = performance.now() - killedAt;
  return { firstMs: firstMs ?? allMs, allMs };
}
