/**
 * Connections drop, work resumes: a whole run (plan → rollout → migrate-shard → verify, each function a
 * child process under `upshift dev`) with a PostgreSQL migration of 4,000 rows in 4 shards, during which
 * every upshift connection to the control store and to the shop database is terminated three times
 * (`pg_terminate_backend`, what a failover or an operator does). The run completes, every row is changed
 * exactly once (a per-row update counter), and no function process exits: a dropped connection fails
 * the statement in flight as a retriable error, the delivery is retried and the shard resumes from its
 * checkpoint, the pools and the relay's listener reconnect.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { isEventOf, uuidv7 } from '@upshift/events';
import type pg from 'pg';
import { expectedOrdersChecksum, migratedOrdersChecksum, startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { clusterNames, deploy, deployment, freshNamespace } from '../support/kube.ts';
import { testPolicy } from '../support/policy.ts';

const rows = 4000;
const shards = 4;
const faults = 3;
const faultSpacingMs = 1000;

let t: ShardTest;

before(async () => {
  t = await startShardTest({ functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process', extraEnv: { UPSHIFT_SHARD_CONCURRENCY: '2' } });
});

after(async () => {
  await t?.stop();
});

/**
 * `orders` at the old version with a per-row update counter; its trigger also sleeps 2 ms per row so
 * the shards work for several seconds (the faults land while they do).
 */
async function seedCountedOrders(shop: pg.Client): Promise<void> {
  await shop.query(`DROP TABLE IF EXISTS orders; DROP SCHEMA IF EXISTS upshift_backup CASCADE;
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text,
      schema_version integer NOT NULL DEFAULT 1, touches integer NOT NULL DEFAULT 0);
    CREATE OR REPLACE FUNCTION count_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touches := OLD.touches + 1; PERFORM pg_sleep(0.002); RETURN NEW; END $$;
    CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION count_touch();`);
  await shop.query(`INSERT INTO orders (id, customer_id, amount, note) SELECT g, g % 500, CASE WHEN g % 97 = 0 THEN NULL ELSE ((g * 7919) % 100000) / 100.0 END, 'order ' || g
    FROM generate_series(1, $1::integer) g`, [rows]);
  await shop.query('ANALYZE orders');
}

/**
 * Terminates every upshift connection to the database `db` is connected to (the functions' pools, the
 * relay's listener, the engines'), as the fault does; limited to this database so that tests
 * running at the same time against other databases of the server are not hit. Returns how many.
 */
async function terminateUpshiftConnections(db: pg.Client): Promise<number> {
  const { rows: [row] } = await db.query<{ terminated: number }>(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated
    FROM pg_stat_activity WHERE application_name LIKE 'upshift%' AND pid <> pg_backend_pid() AND datname = current_database()`);
  return row?.terminated ?? 0;
}

/** Upshift connections to the database `db` is connected to. */
async function upshiftConnections(db: pg.Client): Promise<number> {
  const { rows: [row] } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE application_name LIKE 'upshift%' AND pid <> pg_backend_pid() AND datname = current_database()`);
  return row?.n ?? 0;
}

async function migratedRows(): Promise<number> {
  const { rows: [row] } = await t.shop.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE schema_version = 2');
  return row?.n ?? 0;
}

async function touches(): Promise<{ max: number; once: number }> {
  const { rows: [row] } = await t.shop.query<{ max: number; once: number }>('SELECT max(touches)::int AS max, count(*) FILTER (WHERE touches = 1)::int AS once FROM orders');
  return row ?? { max: -1, once: -1 };
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('connections to the control store and the shop database dropped 3 times mid-migration: the run completes, every row changed once, no process exits', { timeout: 90_000 }, async () => {
  const ns = await freshNamespace('faults');
  try {
    const image = (version: string) => `registry.local/faults/orders:${version}`;
    for (const cluster of clusterNames) await deploy(cluster, ns.name, [deployment('orders', image('1.0.0'))]);
    await seedCountedOrders(t.shop);
    const expected = await expectedOrdersChecksum(t.shop);

    const processes = t.harness.dev.functions.map((f) => ({ name: f.name, child: f.child }));
    assert.ok(processes.every((p) => p.child?.pid), 'every function runs as a process');
    const exits: string[] = [];
    for (const p of processes) (p.child as ChildProcess).once('exit', (code, signal) => exits.push(`${p.name} exited (${signal ?? code})`));

    const document = testPolicy(ns.name, [{ name: 'orders', image: image('2.0.0') }], { failurePolicy: 'rollback', maxParallelServices: 1 });
    const policy = { ...document, spec: { ...document.spec, migrations: [{ ref: 'orders-currency@1', shards, batchSize: 50, backup: true, after: ['orders'] }] } };
    const runId = uuidv7();
    await t.harness.request(policy, runId);

    await until(async () => (await migratedRows()) > 0, 60_000, 'no shard started');
    const firstFault = Date.now();
    const report: string[] = [];
    for (let fault = 1; fault <= faults; fault += 1) {
      if (fault > 1) await sleep(faultSpacingMs);
      // The engine reconnects when the retried delivery runs its next batch: wait for it to be back.
      await until(async () => (await upshiftConnections(t.shop)) > 0, 10_000, `no upshift connection to the shop database before fault ${fault}`);
      const migrated = await migratedRows();
      const control = await terminateUpshiftConnections(t.control);
      const shop = await terminateUpshiftConnections(t.shop);
      report.push(`fault ${fault} at +${Date.now() - firstFault} ms (${migrated}/${rows} rows migrated): terminated ${control} control-store and ${shop} shop connections`);
      assert.ok(migrated < rows, `fault ${fault} hit while shards were working: ${report.join('; ')}`);
      assert.ok(control > 0 && shop > 0, `fault ${fault} found upshift connections in both databases: ${report.at(-1) ?? ''}`);
    }

    const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back', 'upgrade.rejected'], 80_000);
    const faultToEnd = Date.now() - firstFault;
    console.log(report.join('\n'));
    console.log(`first fault to ${end.type}: ${faultToEnd} ms`);
    assert.ok(isEventOf(end, 'upgrade.completed'), `${end.type}: ${JSON.stringify(end.data)}`);
    // rowsMigrated adds up what each committed checkpoint recorded; a batch whose own commit succeeded
    // but whose checkpoint's did not is found done when retried (its rows are not pending any more), so
    // after a drop the figure may fall short of the rows changed. The rows themselves are checked below.
    const [migration] = end.data.migrations;
    console.log(`rowsMigrated reported: ${migration?.rowsMigrated} of ${rows}`);
    assert.deepEqual([migration?.ref, migration?.shards], ['orders-currency@1', shards]);
    assert.ok((migration?.rowsMigrated ?? 0) <= rows, JSON.stringify(migration));
    assert.equal(await migratedOrdersChecksum(t.shop), expected, 'orders migrated exactly as the catalog says');
    assert.deepEqual(await touches(), { max: 1, once: rows }, 'every row changed exactly once');
    assert.deepEqual(exits, [], 'no function process exited');
    assert.deepEqual(t.harness.dev.functions.map((f) => f.child?.pid), processes.map((p) => p.child?.pid), 'the same processes throughout');
  } finally {
    await ns.remove();
  }
});
