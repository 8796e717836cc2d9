/**
 * The whole chain over real Kafka, PostgreSQL, FerretDB and the two clusters: plan → rollout →
 * migrate-shard → verify, with each migration starting after the services of its `after:` list
 * (customers-profile after the customers waves, orders-currency after the orders waves). Success with a
 * user's typed consumer receiving the completion and the stages in order in the control store; a failing
 * later wave rolled back, restoring the data migrated before it, images and data as before; a shard that
 * fails permanently, rolled back.
 * Sizes are small (FerretDB 1.24 is slow); the 200k-row cases live in migrations/ and the demo.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf, onLifecycle, uuidv7 } from '@upshift/events';
import { canonical, customersChecksum, expectedCustomer, expectedOrdersChecksum, migratedOrdersChecksum, ordersChecksum, seedCustomers, seedOrders, startShardTest, type ShardTest } from '../functions/migrate-shard/test/support.ts';
import { clusterNames, deploy, deployment, freshNamespace, privateKubeconfig, running, waitAvailable } from './support/kube.ts';
import { testPolicy } from './support/policy.ts';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startCustomersWriter, type WriterReport } from '../cli/src/demo/writer.ts';

const upshiftBin = fileURLToPath(new URL('../cli/bin/upshift.js', import.meta.url));
async function runCli(args: string[]): Promise<string> {
  return (await promisify(execFile)(process.execPath, [upshiftBin, ...args], { encoding: 'utf8' })).stdout;
}

let t: ShardTest;
let kubeconfig: ReturnType<typeof privateKubeconfig>;

before(async () => {
  kubeconfig = privateKubeconfig();
  t = await startShardTest({ functions: ['plan', 'rollout', 'migrate-shard', 'verify'], extraEnv: { UPSHIFT_SHARD_CONCURRENCY: '2' } });
});

after(async () => {
  await t?.stop();
  kubeconfig?.remove();
});

const v = (service: string, version: string) => `registry.local/e2e/${service}:${version}`;
const services = ['customers', 'orders', 'storefront'];

/** Workloads at 1.0.0 in both clusters, orders and customers seeded at the old version, in a fresh namespace. */
async function setUp(orders: number, customers: number) {
  const ns = await freshNamespace('e2e');
  for (const cluster of clusterNames) await deploy(cluster, ns.name, services.map((s) => deployment(s, v(s, '1.0.0'))));
  await t.shop.query('DROP TABLE IF EXISTS orders');
  await t.shop.query('DROP SCHEMA IF EXISTS upshift_backup CASCADE');
  await t.mongo.db(t.mongoDb).dropDatabase();
  await seedOrders(t.shop, orders);
  await seedCustomers(t.mongo, t.mongoDb, customers);
  return ns;
}

/** When each wave and each migration's shards ran, from the steps table of the control store. */
async function stageTimes(runId: string) {
  const { rows } = await t.control.query<{ kind: string; key: string; started_at: Date | null; finished_at: Date | null }>(
    `SELECT kind, key, started_at, finished_at FROM upshift.steps WHERE run_id = $1 AND kind IN ('wave', 'shard')`, [runId]);
  const span = (kind: string, match: (key: string) => boolean) => {
    const mine = rows.filter((r) => r.kind === kind && match(r.key));
    assert.ok(mine.length > 0 && mine.every((r) => r.started_at && r.finished_at), `${kind} steps ${JSON.stringify(mine)}`);
    return { start: Math.min(...mine.map((r) => r.started_at?.getTime() ?? 0)), end: Math.max(...mine.map((r) => r.finished_at?.getTime() ?? 0)) };
  };
  return { wave: (index: number) => span('wave', (key) => key === String(index)), shards: (ref: string) => span('shard', (key) => key.includes(`:${ref}:`)) };
}

/** The run's shard steps: migration, status, and the rows each recorded. */
async function shardSteps(runId: string) {
  const { rows } = await t.control.query<{ key: string; status: string }>(`SELECT key, status FROM upshift.steps WHERE run_id = $1 AND kind = 'shard' ORDER BY key`, [runId]);
  const fanin = await t.control.query<{ rows: string }>(`SELECT coalesce(sum((checkpoint->>'rows')::int), 0) AS rows FROM upshift.steps WHERE run_id = $1 AND kind = 'fanin' AND status = 'completed'`, [runId]);
  return { shards: rows.map((r) => ({ migration: r.key.split(':')[1] ?? '', status: r.status })), rowsMigrated: Number(fanin.rows[0]?.rows ?? 0) };
}

function policy(namespace: string, images: Record<string, string>, shards: number) {
  const document = testPolicy(namespace, [
    { name: 'customers', image: images['customers'] ?? '' },
    { name: 'orders', image: images['orders'] ?? '', dependsOn: ['customers'] },
    { name: 'storefront', image: images['storefront'] ?? '', dependsOn: ['orders'] },
  ], { failurePolicy: 'rollback', maxParallelServices: 1 });
  return { ...document, spec: { ...document.spec, migrations: [
    { ref: 'orders-currency@1', shards, batchSize: 100, backup: true, after: ['orders'] },
    { ref: 'customers-profile@1', shards, batchSize: 50, backup: true, after: ['customers'] },
  ] } };
}

test('success: 3 services over 2 clusters with a PostgreSQL and a MongoDB migration of 8 shards each', { timeout: 420_000 }, async () => {
  const ns = await setUp(2000, 120);
  const expectedOrders = await expectedOrdersChecksum(t.shop);
  const before = await t.mongo.db(t.mongoDb).collection('customers').find({}).sort({ _id: 1 }).toArray();
  const runId = uuidv7();
  const seen: string[] = [];
  const user = await onLifecycle({ brokers: (t.harness.env['KAFKA_BROKERS'] ?? '').split(',') }, { 'upgrade.completed': (data) => { if (data.runId === runId) seen.push(data.runId); } }, { topicPrefix: t.harness.prefix, fromBeginning: true });
  try {
    await t.harness.request(policy(ns.name, Object.fromEntries(services.map((s) => [s, v(s, '2.0.0')])), 8), runId);
    const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back', 'upgrade.rejected'], 360_000);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    assert.deepEqual(end.data.migrations.map((m) => [m.ref, m.shards, m.rowsMigrated]), [['orders-currency@1', 8, 2000], ['customers-profile@1', 8, 120]]);
    for (const cluster of clusterNames) {
      for (const s of services) {
        assert.equal((await running(cluster, ns.name, s)).image, v(s, '2.0.0'), `${s} in ${cluster}`);
        await waitAvailable(cluster, ns.name, s);
      }
    }
    assert.equal(await migratedOrdersChecksum(t.shop), expectedOrders, 'orders migrated exactly as the catalog says');
    const after = await t.mongo.db(t.mongoDb).collection('customers').find({}).sort({ _id: 1 }).toArray();
    assert.deepEqual(after.map((d) => canonical(d)), before.map((d) => canonical(expectedCustomer(d as Record<string, unknown>))));
    const report = t.harness.eventsOf(runId).find((e) => isEventOf(e, 'verify.results'));
    assert.ok(report && isEventOf(report, 'verify.results'));
    assert.equal(report.data.passed, true, JSON.stringify(report.data.checks));
    assert.deepEqual(report.data.checks.map((c) => c.kind), ['workloadsAvailable', 'noOldVersion', 'invariants']);
    const deadline = Date.now() + 30_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(seen.length, 1, "the user's typed consumer received the completion once");
    // Waves: customers@a, customers@b, orders@a, orders@b, storefront@a, storefront@b.
    const planned = t.harness.eventsOf(runId).find((e) => isEventOf(e, 'upgrade.planned'));
    assert.ok(planned && isEventOf(planned, 'upgrade.planned'));
    assert.deepEqual(planned.data.migrations.map((m) => [m.ref, m.afterWave]), [['orders-currency@1', 3], ['customers-profile@1', 1]]);
    const times = await stageTimes(runId);
    for (const [ref, afterWave] of [['customers-profile@1', 1], ['orders-currency@1', 3]] as const) {
      const shards = times.shards(ref);
      assert.ok(shards.start >= times.wave(afterWave).end, `${ref}: shards started after wave ${afterWave} (its after: service in every cluster) finished`);
      assert.ok(shards.end <= times.wave(afterWave + 1).start, `${ref}: every shard finished before wave ${afterWave + 1} started`);
    }
  } finally {
    await user.stop();
    await ns.remove();
  }
});

test('a later wave fails (orders) after customers-profile migrated (after: customers): its data is restored, images and data as before the run', { timeout: 420_000 }, async () => {
  const ns = await setUp(600, 40);
  const ordersBefore = await ordersChecksum(t.shop);
  const customersBefore = await customersChecksum(t.mongo, t.mongoDb, canonical);
  const runId = uuidv7();
  // Wave order: customers@a, customers@b, orders@a, ... The failing image is orders' (the second service).
  await t.harness.request(policy(ns.name, { customers: v('customers', '2.0.0'), orders: v('orders', '2.0.0-fail'), storefront: v('storefront', '2.0.0') }, 4), runId);
  const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back'], 360_000);
  assert.ok(isEventOf(end, 'upgrade.rolled-back'), `${end.type}: ${JSON.stringify(end.data)}`);
  assert.equal(end.data.stage, 'rollout');
  assert.match(end.data.reason, /orders in upshift-a/);
  const { shards, rowsMigrated } = await shardSteps(runId);
  assert.ok(shards.length > 0 && shards.every((s) => s.migration === 'customers-profile@1' && s.status === 'restored'), `customers migrated, then restored; orders never started: ${JSON.stringify(shards)}`);
  assert.equal(rowsMigrated, 40, 'every customer was migrated before the orders wave failed');
  assert.equal(end.data.restoredShards, shards.length);
  assert.equal(end.data.revertedWorkloads, 3, 'customers in both clusters and orders in the canary');
  for (const cluster of clusterNames) {
    for (const s of services) {
      assert.equal((await running(cluster, ns.name, s)).image, v(s, '1.0.0'), `${s} back in ${cluster}`);
      await waitAvailable(cluster, ns.name, s);
    }
  }
  assert.equal(await ordersChecksum(t.shop), ordersBefore);
  assert.equal(await customersChecksum(t.mongo, t.mongoDb, canonical), customersBefore);
  await ns.remove();
});

test('a later wave fails while the application writes to the customers: every write is kept, the conflicts are reported by key in status', { timeout: 420_000 }, async () => {
  const ns = await setUp(300, 200);
  const digest = async () => new Map((await t.mongo.db(t.mongoDb).collection('customers').find({}).toArray()).map((d) => [String(d._id), JSON.stringify(canonical(d))]));
  const before = await digest();
  // The application writes throughout the run as whichever version owns each document (customers/support.ts ids c000000…c000199).
  const app = startCustomersWriter({ url: process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27117/', database: t.mongoDb, perSecond: 40, pickId: () => `c${String(Math.floor(Math.random() * 200)).padStart(6, '0')}` });
  const runId = uuidv7();
  let writes: WriterReport;
  try {
    await t.harness.request(policy(ns.name, { customers: v('customers', '2.0.0'), orders: v('orders', '2.0.0-fail'), storefront: v('storefront', '2.0.0') }, 2), runId);
    const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back'], 360_000);
    assert.ok(isEventOf(end, 'upgrade.rolled-back'), `${end.type}: ${JSON.stringify(end.data)}`);
  } finally {
    writes = await app.stop();
  }
  assert.ok(writes.written > 100, `the application wrote throughout the run (${writes.written})`);
  assert.deepEqual(writes.lost, [], 'every write the application made is still there');
  // Documents nobody wrote are exactly as before the run.
  const after = await digest();
  for (const [id, text] of before) if (!writes.touched.has(id)) assert.equal(after.get(id), text, `customer ${id}, never written by the application, is as before the run`);
  // The conflicts (writes to migrated fields of migrated customers) are recorded by key and listed by `upshift status`.
  const recorded = await t.mongo.db(t.mongoDb).collection('upshift_conflicts').find({}).toArray();
  const conflicts = recorded.filter((finding) => finding.kind !== 'created').length;
  assert.ok(conflicts > 0, 'the new version changed migrated fields before the rollback');
  const status = await runCli(['status', runId, '--json', '--database-url', t.harness.databaseUrl]);
  const report = JSON.parse(status) as { view: { migrations: Array<{ ref: string; restore: { conflicts: number; findings: Array<{ key: string; column: string; decision: string }> } | null }> } };
  const customers = report.view.migrations.find((m) => m.ref === 'customers-profile@1');
  assert.equal(customers?.restore?.conflicts, conflicts, 'upshift status counts every recorded conflict (from shard.restore.done)');
  assert.ok(customers?.restore?.findings.length, 'and lists them by key');
  assert.ok(customers?.restore?.findings.every((f) => f.decision === 'kept' && writes.touched.has(JSON.parse(f.key) as string)), JSON.stringify(customers?.restore?.findings));
  await ns.remove();
});

test('a shard that fails permanently names the row and the database error; the migrated shards are restored', { timeout: 420_000 }, async () => {
  const ns = await setUp(800, 40);
  // An order whose amount is too large for the new column's range after the transform.
  await t.shop.query('UPDATE orders SET amount = 99999999.99 WHERE id = 421');
  await t.shop.query('ALTER TABLE orders ADD COLUMN amount_minor bigint, ADD CONSTRAINT amount_minor_limit CHECK (amount_minor < 1000000000)');
  const ordersBefore = await ordersChecksum(t.shop);
  const customersBefore = await customersChecksum(t.mongo, t.mongoDb, canonical);
  const runId = uuidv7();
  await t.harness.request(policy(ns.name, Object.fromEntries(services.map((s) => [s, v(s, '2.0.0')])), 4), runId);
  const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back'], 360_000);
  assert.ok(isEventOf(end, 'upgrade.rolled-back'), `${end.type}: ${JSON.stringify(end.data)}`);
  assert.equal(end.data.stage, 'migrate');
  assert.match(end.data.reason, /amount_minor_limit/);
  const { shards } = await shardSteps(runId);
  assert.deepEqual([...new Set(shards.map((s) => s.migration))].sort(), ['customers-profile@1', 'orders-currency@1'], 'customers migrated after its waves, orders after its waves');
  assert.ok(shards.every((s) => s.status === 'restored'), JSON.stringify(shards));
  assert.equal(end.data.restoredShards, shards.length);
  assert.equal(end.data.revertedWorkloads, 4, 'customers and orders in both clusters; storefront never started');
  assert.equal(await ordersChecksum(t.shop), ordersBefore, 'orders restored');
  assert.equal(await customersChecksum(t.mongo, t.mongoDb, canonical), customersBefore, 'customers restored');
  for (const cluster of clusterNames) for (const s of services) assert.equal((await running(cluster, ns.name, s)).image, v(s, '1.0.0'));
  await ns.remove();
});
