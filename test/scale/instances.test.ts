/**
 * Several instances of migrate-shard share a run, as pods of one Knative Service behind one KafkaSource
 * (`upshift dev --scale migrate-shard=3`): the dispatcher spreads the shards over the instances, each
 * takes one shard at a time (containerConcurrency 1: never a 429), every instance works at least one
 * shard (each instance's own /metrics says so), and the data ends exactly as a one-instance run leaves
 * it. Then one instance is killed (kill -9) mid-shard: it is replaced, and its shard is taken over by
 * another instance once the dead one's lease ends; the run completes with every row changed once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf } from '@upshift/events';
import { expectedOrdersChecksum, migratedOrdersChecksum, startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { deliveryTally, migrationsOf, requestOrdersRun, runEnds, seedCountedOrders, shardCheckpoints, touches, until } from '../faults/shard-run.ts';
import { handledOk, instancesOf, shardLeaseHolders } from './instances.ts';

const functions = ['plan', 'rollout', 'migrate-shard', 'verify'] as const;
const instances = 3;
const shards = 6;
const rows = 3000;
const { tally, onOutcome } = deliveryTally();
let scaled: ShardTest;

before(async () => {
  scaled = await startShardTest({
    functions: [...functions], mode: 'process', dev: { onOutcome },
    extraEnv: { UPSHIFT_DEV_SCALE: `migrate-shard=${instances}` },
  });
});

after(async () => {
  await scaled?.stop();
});

/** Seeds, runs the orders migration in `shards` shards on `t` and returns the run's end and the migrated data's checksum. */
async function migrate(t: ShardTest, msPerRow: number, midway?: (runId: string) => Promise<void>) {
  await seedCountedOrders(t.shop, rows, msPerRow);
  const expected = await expectedOrdersChecksum(t.shop);
  const run = await requestOrdersRun(t, shards, 50);
  try {
    await midway?.(run.runId);
    const end = await t.harness.waitFor(run.runId, [...runEnds], 90_000);
    return { runId: run.runId, end, expected, checksum: await migratedOrdersChecksum(t.shop), touched: await touches(t.shop) };
  } finally {
    await run.remove();
  }
}

test('3 instances of migrate-shard share the shards; the data equals a one-instance run\'s', { timeout: 150_000 }, async () => {
  const single = await startShardTest({ functions: [...functions] }); // one process (inline) standing in for the Service
  let one;
  try {
    one = await migrate(single, 0);
  } finally {
    await single.stop();
  }
  assert.ok(isEventOf(one.end, 'upgrade.completed'), `one instance: ${one.end.type}`);
  const workers = instancesOf(scaled.harness.dev.functions, 'migrate-shard');
  assert.equal(workers.length, instances);
  assert.equal(new Set(workers.map((w) => w.child?.pid)).size, instances, 'separate processes');
  const before = await Promise.all(workers.map((w) => handledOk(w.url, 'shard.requested')));
  const many = await migrate(scaled, 1);
  const worked = (await Promise.all(workers.map((w) => handledOk(w.url, 'shard.requested')))).map((n, i) => n - (before[i] ?? 0));
  console.log(`shard.requested handled per instance: ${worked.join(', ')} (${shards} shards); checksum ${many.checksum} (one instance ${one.checksum})`);
  assert.ok(isEventOf(many.end, 'upgrade.completed'), `${instances} instances: ${many.end.type}: ${JSON.stringify(many.end.data)}`);
  assert.deepEqual(migrationsOf(many.end), [['orders-currency@1', shards, rows]]);
  assert.ok(worked.every((n) => n >= 1), `every instance worked at least one shard: ${worked.join(', ')}`);
  assert.equal(many.checksum, one.checksum, 'the same data as the one-instance run');
  assert.equal(many.checksum, many.expected, 'the data the catalog entry asks for');
  assert.deepEqual(many.touched, { max: 1, once: rows }, 'every row changed once');
  assert.equal(tally.throttled, 0, 'no instance was sent more than its containerConcurrency (it would answer 429)');
  assert.deepEqual(tally.deadLetters, []);
});

test('kill -9 of one of 3 instances mid-shard: replaced, its shard taken over after the lease, the run completes exactly', { timeout: 120_000 }, async () => {
  const workers = instancesOf(scaled.harness.dev.functions, 'migrate-shard');
  let victim: { pid: number; instance: number; shard: string; token: number } | undefined;
  const result = await migrate(scaled, 4, async (runId) => {
    victim = await until(async () => {
      const shardsNow = await shardCheckpoints(scaled.control, runId);
      const holders = await shardLeaseHolders(scaled.control);
      for (const [shardId, seen] of shardsNow) {
        const pid = holders.get(`shard:${shardId}`);
        const worker = workers.find((w) => w.child?.pid === pid);
        if (seen.status === 'running' && seen.scanned >= 100 && seen.scanned < rows / shards - 150 && worker && pid) return { pid, instance: worker.instance, shard: shardId, token: seen.token };
      }
      return undefined;
    }, 60_000, 'no shard was half-way');
    process.kill(victim.pid, 'SIGKILL');
  });
  const replaced = workers.find((w) => w.instance === victim?.instance);
  const finalToken = (await shardCheckpoints(scaled.control, result.runId)).get(victim?.shard ?? '')?.token ?? 0;
  console.log(`killed migrate-shard-${victim?.instance} (pid ${victim?.pid}) on ${victim?.shard}: ${result.end.type}; replaced by pid ${replaced?.child?.pid}`);
  assert.ok(isEventOf(result.end, 'upgrade.completed'), `${result.end.type}: ${JSON.stringify(result.end.data)}`);
  assert.deepEqual(migrationsOf(result.end), [['orders-currency@1', shards, rows]], 'every row counted once');
  assert.equal(result.checksum, result.expected, 'the same data as an undisturbed run');
  assert.deepEqual(result.touched, { max: 1, once: rows }, 'no row changed twice: the shard resumed from its checkpoint under a newer lease');
  assert.ok(finalToken > (victim?.token ?? 0), `the killed instance's shard was finished under a newer lease (token ${victim?.token} → ${finalToken})`);
  assert.notEqual(replaced?.child?.pid, victim?.pid, 'the killed instance was replaced');
  await until(async () => (replaced?.ready ? true : undefined), 30_000, 'the replacement was not ready');
  assert.deepEqual(tally.deadLetters, [], 'no delivery was dead-lettered');
});
