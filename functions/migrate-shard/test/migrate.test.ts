/** migration.requested end to end through Kafka and the dispatcher: fan-out, every shard migrated, completions, progress. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LIFECYCLE_TOPIC } from '@upshift/events';
import { collect } from '../../../runtime/test/support/stack.ts';
import {
  ordersChecksum, canonical, customersChecksum, expectedCustomer, expectedOrdersChecksum, migratedOrdersChecksum, seedCustomers, seedOrders, startShardTest, type ShardTest,
} from './support.ts';

let t: ShardTest;
let runId = '';
const before_ = { orders: '', customers: '' };

before(async () => {
  t = await startShardTest({ extraEnv: { UPSHIFT_PROGRESS_INTERVAL_MS: '1000', UPSHIFT_SHARD_CONCURRENCY: '2' } });
  await seedOrders(t.shop, 5000);
  await seedCustomers(t.mongo, t.mongoDb, 400); // FerretDB migrates ~100 documents/s on this machine
  before_.orders = await ordersChecksum(t.shop);
  before_.customers = await customersChecksum(t.mongo, t.mongoDb, canonical);
});
after(async () => { await t?.stop(); });

test('expands, fans out one shard.requested per shard and migrates every row and document as the catalog says', async () => {
  runId = await t.startRun();
  const rollout = await collect(t.harness.env, `${t.harness.prefix}upshift.rollout`);
  const lifecycle = await collect(t.harness.env, `${t.harness.prefix}${LIFECYCLE_TOPIC}`);
  try {
    await t.publish('migration.expand.requested', { runId, migrations: ['orders-currency@1', 'customers-profile@1'] });
    await rollout.waitFor(1, 60_000);
    assert.equal(rollout.events()[0]?.type, 'dev.upshift.migration.expand.done.v1');
    const expectedOrders = await expectedOrdersChecksum(t.shop);
    const expectedCustomers = await customersChecksum(t.mongo, t.mongoDb, (doc) => canonical(expectedCustomer(doc)));

    const started = Date.now();
    await t.publish('migration.requested', { runId, migrations: [
      { ref: 'orders-currency@1', store: 'postgres', shards: 8, batchSize: 100, backup: true },
      { ref: 'customers-profile@1', store: 'mongodb', shards: 4, batchSize: 100, backup: true },
    ] });
    const completed = await t.waitForCount(t.verify, 'shard.completed', runId, 12);
    console.log(`12 shards completed in ${Date.now() - started} ms`);

    const requested = t.typesOf(t.work, 'shard.requested', runId);
    const firstHops = new Map(requested.map((e) => [(e.data as { shardId: string }).shardId, e]));
    assert.equal(firstHops.size, 12);
    for (const [shardId, event] of firstHops) assert.equal(event.partitionkey, shardId, 'partition key = shard id');
    assert.deepEqual([...firstHops.keys()].filter((id) => id.includes('orders-currency@1')).length, 8);

    const byShard = new Map(completed.map((e) => [(e.data as { shardId: string }).shardId, e.data as { migration: string; rowsMigrated: number; batches: number }]));
    assert.equal(byShard.size, 12, 'one completion per shard');
    const rows = (ref: string) => [...byShard.values()].filter((d) => d.migration === ref).reduce((sum, d) => sum + d.rowsMigrated, 0);
    assert.equal(rows('orders-currency@1'), 5000);
    assert.equal(rows('customers-profile@1'), 400);

    assert.equal(await migratedOrdersChecksum(t.shop), expectedOrders, 'every order migrated as the catalog says');
    const { rows: left } = await t.shop.query<{ n: number }>('SELECT count(*)::int AS n FROM upshift_backup.' + await backupTable(t) );
    assert.equal(left[0]?.n, 5000, 'one backup row per changed order');
    const actualCustomers = await customersChecksum(t.mongo, t.mongoDb, (doc) => canonical(doc));
    assert.equal(actualCustomers, expectedCustomers, 'every customer migrated as the catalog says');

    await lifecycle.waitFor(1, 10_000);
    const progress = lifecycle.events().filter((e) => e.type === 'dev.upshift.run.progress.v1' && (e.data as { runId: string }).runId === runId);
    assert.ok(progress.length >= 1, 'progress is reported');
    const perShard = new Map<string, number[]>();
    for (const e of progress) {
      const shardId = String((e.data as { message?: string }).message).split(': ')[0] ?? '';
      perShard.set(shardId, [...(perShard.get(shardId) ?? []), Date.parse(e.time)]);
    }
    for (const [shardId, times] of perShard) {
      const sorted = times.sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]! - sorted[i - 1]! >= 990, `${shardId}: progress ${sorted[i]! - sorted[i - 1]!} ms apart`);
    }
  } finally {
    await rollout.stop();
    await lifecycle.stop();
  }
});

async function backupTable(test: ShardTest): Promise<string> {
  const { rows } = await test.shop.query<{ name: string }>(`SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'upshift_backup' LIMIT 1`);
  return rows[0]?.name ?? 'missing';
}

test('rollback.requested after completed shards restores every shard: data equal to before, one shard.restore.done each', async () => {
  assert.ok(runId, 'runs after the migration test');
  const started = Date.now();
  await t.publish('rollback.requested', { runId, stage: 'verify', reason: 'a check failed (test)' });
  const done = await t.waitForCount(t.verify, 'shard.restore.done', runId, 12);
  console.log(`12 shards restored in ${Date.now() - started} ms`);
  const outcomes = done.map((e) => e.data as { shardId: string; outcome: string; rowsRestored: number });
  assert.equal(new Set(outcomes.map((o) => o.shardId)).size, 12);
  assert.ok(outcomes.every((o) => o.outcome === 'restored'), JSON.stringify(outcomes.filter((o) => o.outcome !== 'restored')));
  assert.equal(outcomes.filter((o) => o.shardId.includes('orders')).reduce((sum, o) => sum + o.rowsRestored, 0), 5000);
  assert.equal(await ordersChecksum(t.shop), before_.orders, 'orders as before the run');
  assert.equal(await customersChecksum(t.mongo, t.mongoDb, (doc) => canonical(withoutAddedFields(doc))), before_.customers, 'customers as before the run');
  const { rows } = await t.control.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM upshift.steps WHERE run_id = $1 AND kind = 'shard' GROUP BY status`, [runId]);
  assert.deepEqual(rows, [{ status: 'restored', n: 12 }]);
});

/** Restore puts documents back exactly; nothing to strip unless the engine leaves fields it added. */
function withoutAddedFields(doc: Record<string, unknown>): Record<string, unknown> {
  return doc;
}
