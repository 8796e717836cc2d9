/**
 * Backpressure is not failure: 16 shards for a migrate-shard with 2 shard slots
 * (UPSHIFT_SHARD_CONCURRENCY=2) while the dev dispatcher sends it 8 deliveries at once, under the
 * default delivery policy. The deliveries beyond the slots are answered 429 again and again; the
 * dispatcher retries them without spending their retries, so the run completes and nothing is
 * dead-lettered (before, 429s used up the ~6 s retry budget and a shard was dead-lettered).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEAD_LETTER_TOPIC, isEventOf } from '@upshift/events';
import { expectedOrdersChecksum, migratedOrdersChecksum, startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { collect } from '../../runtime/test/support/stack.ts';
import { deliveryTally, migrationsOf, requestOrdersRun, runEnds, seedCountedOrders, touches } from './shard-run.ts';

const shards = 16;
const rows = 3200;
const { tally, onOutcome } = deliveryTally();
let t: ShardTest;

before(async () => {
  t = await startShardTest({
    functions: ['plan', 'rollout', 'migrate-shard', 'verify'],
    extraEnv: { UPSHIFT_SHARD_CONCURRENCY: '2' },
    dev: { retry: {}, concurrency: { 'migrate-shard': 8 }, onOutcome },
  });
});

after(async () => {
  await t?.stop();
});

test('16 shards on 2 slots while the dispatcher sends 8 at once: the 429s wait, the run completes, nothing is dead-lettered', { timeout: 90_000 }, async () => {
  await seedCountedOrders(t.shop, rows, 1);
  const expected = await expectedOrdersChecksum(t.shop);
  const deadLetters = await collect(t.harness.env, `${t.harness.prefix}${DEAD_LETTER_TOPIC}`);
  const started = Date.now();
  const run = await requestOrdersRun(t, shards, 50);
  try {
    const end = await t.harness.waitFor(run.runId, [...runEnds], 80_000);
    console.log(`${shards} shards on 2 slots, 8 sent at once: ${end.type} after ${Date.now() - started} ms; ${tally.throttledByFunction['migrate-shard'] ?? 0} answers of 429 retried, ${tally.deadLetters.length} dead letters`);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.deepEqual(migrationsOf(end), [['orders-currency@1', shards, rows]]);
    assert.equal(await migratedOrdersChecksum(t.shop), expected, 'orders migrated exactly as the catalog says');
    assert.deepEqual(await touches(t.shop), { max: 1, once: rows }, 'every row changed exactly once');
    assert.ok((tally.throttledByFunction['migrate-shard'] ?? 0) > 0, 'the slots were full: migrate-shard answered 429');
    assert.deepEqual(tally.deadLetters, [], 'no delivery was dead-lettered');
    assert.equal(deadLetters.messages.length, 0, 'the dead-letter topic is empty');
  } finally {
    await deadLetters.stop();
    await run.remove();
  }
});
