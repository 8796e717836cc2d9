/** migration.requested end to end through Kafka and the dispatcher: fan-out, every shard migrated, completions, progress. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LIFECYCLE_TOPIC } from '@upshift/events';
import type { RunPlan } from '@upshift/events';
import { collect, eventually } from '../../../runtime/test/support/stack.ts';
import {
  ordersChecksum, canonical, customersChecksum, expectedCustomer, expectedOrdersChecksum, migratedOrdersChecksum, seedCustomers, seedOrders, startShardTest, type ShardTest,
} from './support.ts';

let t: ShardTest;
let runId = '';
const before_ = { orders: '', customers: '' };

before(async () => {
  t = await startShardTest({ extraEnv: { UPSHIFT_PROGRESS_INTERVAL_MS: '1000', UPSHIFT_SHARD_CONCURRENCY: '2' } });
  await seedOrders(t.shop, 5000);
  await seedCustomers(t.mongo, t.mongoDb, 400);
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
    // Reports are decided at least UPSHIFT_PROGRESS_INTERVAL_MS (1 s) apart; an event's time is taken a
    // little later, after the run's tally is read in the checkpoint's transaction, and that read can wait
    // on a loaded machine. Without the interval, reports would come once per batch, milliseconds apart.
    for (const [shardId, times] of perShard) {
      const sorted = times.sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]! - sorted[i - 1]! >= 750, `${shardId}: progress ${sorted[i]! - sorted[i - 1]!} ms apart`);
    }
  } finally {
    await rollout.stop();
    await lifecycle.stop();
  }
});

async function backupTable(test: ShardTest): Promise<string> {
  const { rows } = await test.shop.query<{ name: string }>(`SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'upshift_backup' AND table_name NOT LIKE 'upshift\\_%' LIMIT 1`);
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

test('migration.contract.requested after a verified run: the contract DDL runs, backups are dropped, upgrade.completed says contracted', async () => {
  const contractRun = await t.startRun();
  const migrations = [
    { ref: 'orders-currency@1', store: 'postgres', shards: 2, batchSize: 500, backup: true },
    { ref: 'customers-profile@1', store: 'mongodb', shards: 1, batchSize: 200, backup: true },
  ] as const;
  const plan = {
    runId: contractRun, policyName: 'contract-test', dryRun: false, clusters: [], waves: [], migrations: migrations.map((m) => ({ ...m })),
    strategy: { clusterOrder: [], maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 60, failurePolicy: 'rollback', contract: true },
  } as unknown as RunPlan;
  await t.control.query('UPDATE upshift.runs SET plan = $2 WHERE id = $1', [contractRun, JSON.stringify(plan)]);
  const lifecycle = await collect(t.harness.env, `${t.harness.prefix}${LIFECYCLE_TOPIC}`);
  try {
    await t.publish('migration.requested', { runId: contractRun, migrations: migrations.map((m) => ({ ...m })) });
    await t.waitForCount(t.verify, 'shard.completed', contractRun, 3);
    const backupsBefore = await backups();
    assert.equal(backupsBefore.tables, 1, 'the orders backup table exists before contract');
    assert.equal(backupsBefore.collections, 1, 'the customers backup collection exists before contract');
    await t.publish('migration.contract.requested', { runId: contractRun, migrations: migrations.map((m) => m.ref) });
    const completed = await eventually(async () => lifecycle.events().find((e) => e.type === 'dev.upshift.upgrade.completed.v1' && (e.data as { runId: string }).runId === contractRun), 60_000);
    const data = completed.data as unknown as { contracted: boolean; migrations: Array<{ ref: string; shards: number; rowsMigrated: number }> };
    assert.equal(data.contracted, true);
    assert.deepEqual(data.migrations.map((m) => [m.ref, m.shards]), [['orders-currency@1', 2], ['customers-profile@1', 1]]);

    const { rows: columns } = await t.shop.query<{ column_name: string; is_nullable: string }>(
      `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'orders' AND column_name IN ('amount', 'amount_minor', 'currency') ORDER BY column_name`);
    assert.deepEqual(columns, [{ column_name: 'amount_minor', is_nullable: 'NO' }, { column_name: 'currency', is_nullable: 'NO' }], 'amount dropped, the new columns NOT NULL');
    const withName = await t.mongo.db(t.mongoDb).collection('customers').countDocuments({ name: { $exists: true } });
    assert.equal(withName, 0, 'the contract unset the old name field');
    assert.deepEqual(await backups(), { tables: 0, collections: 0 }, 'backups dropped once contract ran');
    const { rows: runs } = await t.control.query<{ status: string }>('SELECT status FROM upshift.runs WHERE id = $1', [contractRun]);
    assert.equal(runs[0]?.status, 'completed');
  } finally {
    await lifecycle.stop();
  }
});

async function backups(): Promise<{ tables: number; collections: number }> {
  const { rows } = await t.shop.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'upshift_backup' AND table_name NOT LIKE 'upshift\\_%'`);
  const collections = (await t.mongo.db(t.mongoDb).listCollections({}, { nameOnly: true }).toArray()).filter((c) => c.name.startsWith('upshift_backup__'));
  return { tables: rows[0]?.n ?? -1, collections: collections.length };
}

/** Restore puts documents back exactly; nothing to strip unless the engine leaves fields it added. */
function withoutAddedFields(doc: Record<string, unknown>): Record<string, unknown> {
  return doc;
}
