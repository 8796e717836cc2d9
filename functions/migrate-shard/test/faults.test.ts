/**
 * Faults of migrate-shard running as a child process under `upshift dev` (restarted like a pod), with a
 * 200 ms budget so every shard goes through several continuation hops: budget hand-over, a worker
 * SIGKILLed mid-shard, the same shard delivered twice at once, and a row that violates a constraint.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeHttp, type AnyUpshiftEvent } from '@upshift/events';
import { acquireLease, isUpshiftError, releaseLease, type Lease } from '@upshift/runtime';
import pg from 'pg';
import { cliEvent } from '../../../runtime/test/support/publish.ts';
import { eventually } from '../../../runtime/test/support/stack.ts';
import { canonical, customersChecksum, expectedCustomer, expectedOrdersChecksum, migratedOrdersChecksum, seedCustomers, startShardTest, type ShardTest } from './support.ts';

let t: ShardTest;

before(async () => {
  t = await startShardTest({ mode: 'process', extraEnv: { UPSHIFT_SHARD_BUDGET_MS: '200', UPSHIFT_SHARD_CONCURRENCY: '4' } });
});
after(async () => { await t?.stop(); });

/**
 * A fresh `orders` with the columns expand adds, a CHECK the transform can break, and a per-row update
 * counter whose trigger also sleeps 1 ms per row, so a shard of ~1000 rows lasts about a second (several hops).
 */
async function resetOrders(rows: number, violatingId?: number): Promise<void> {
  await t.shop.query(`DROP TABLE IF EXISTS orders;
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text,
      schema_version integer NOT NULL DEFAULT 1, amount_minor bigint, currency text, touches integer NOT NULL DEFAULT 0,
      CONSTRAINT amount_minor_limit CHECK (amount_minor IS NULL OR amount_minor < 9000000));
    CREATE OR REPLACE FUNCTION count_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touches := OLD.touches + 1; PERFORM pg_sleep(0.001); RETURN NEW; END $$;
    CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION count_touch();`);
  await t.shop.query(`INSERT INTO orders (id, customer_id, amount, note) SELECT g, g % 500, ((g * 7919) % 100000) / 100.0, 'order ' || g FROM generate_series(1, $1::integer) g`, [rows]);
  if (violatingId !== undefined) await t.shop.query('UPDATE orders SET amount = 99999.99, touches = 0 WHERE id = $1', [violatingId]);
  const { rows: backups } = await t.shop.query<{ name: string }>(`SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'upshift_backup'`);
  for (const backup of backups) await t.shop.query(`TRUNCATE upshift_backup.${backup.name}`);
  await t.shop.query('ANALYZE orders');
}

async function touches(): Promise<{ max: number; once: number }> {
  const { rows } = await t.shop.query<{ max: number; once: number }>('SELECT max(touches)::int AS max, count(*) FILTER (WHERE touches = 1)::int AS once FROM orders');
  return rows[0] ?? { max: -1, once: -1 };
}

async function migrate(runId: string, shards: number, batchSize: number): Promise<void> {
  await t.publish('migration.requested', { runId, migrations: [{ ref: 'orders-currency@1', store: 'postgres', shards, batchSize, backup: true }] });
}

function hopsPerShard(runId: string): Map<string, number> {
  const hops = new Map<string, number>();
  for (const e of t.typesOf(t.work, 'shard.requested', runId)) {
    const shardId = (e.data as { shardId: string }).shardId;
    hops.set(shardId, (hops.get(shardId) ?? 0) + 1);
  }
  return hops;
}

test('with a 200 ms budget a shard finishes over several continuation hops with the same result', async () => {
  await resetOrders(1200);
  const expected = await expectedOrdersChecksum(t.shop);
  const runId = await t.startRun();
  const started = Date.now();
  await migrate(runId, 2, 20);
  const completed = await t.waitForCount(t.verify, 'shard.completed', runId, 2);
  const hops = hopsPerShard(runId);
  console.log(`2 shards in ${Date.now() - started} ms over ${[...hops.values()].join(' + ')} hops`);
  assert.ok([...hops.values()].every((n) => n >= 3), `every shard took several hops: ${JSON.stringify([...hops])}`);
  assert.equal(completed.reduce((sum, e) => sum + (e.data as { rowsMigrated: number }).rowsMigrated, 0), 1200);
  assert.equal(await migratedOrdersChecksum(t.shop), expected);
  assert.deepEqual(await touches(), { max: 1, once: 1200 }, 'every row changed exactly once');
});

test('MongoDB: a shard continued over several hops ends with every document migrated as the catalog says', async () => {
  await seedCustomers(t.mongo, t.mongoDb, 200);
  const expected = await customersChecksum(t.mongo, t.mongoDb, (doc) => canonical(expectedCustomer(doc)));
  const runId = await t.startRun();
  await t.publish('migration.expand.requested', { runId, migrations: ['customers-profile@1'] });
  await t.publish('migration.requested', { runId, migrations: [{ ref: 'customers-profile@1', store: 'mongodb', shards: 2, batchSize: 20, backup: true }] });
  const completed = await t.waitForCount(t.verify, 'shard.completed', runId, 2, 120_000);
  const hops = hopsPerShard(runId);
  console.log(`MongoDB: 2 shards over ${[...hops.values()].join(' + ')} hops`);
  assert.ok([...hops.values()].some((n) => n >= 2), JSON.stringify([...hops]));
  assert.equal(completed.reduce((sum, e) => sum + (e.data as { rowsMigrated: number }).rowsMigrated, 0), 200);
  assert.equal(await customersChecksum(t.mongo, t.mongoDb, canonical), expected);
});

test('a worker SIGKILLed mid-shard: the restarted one resumes from the checkpoint and the result equals an undisturbed run', async () => {
  await resetOrders(2000);
  const expected = await expectedOrdersChecksum(t.shop);
  const runId = await t.startRun();
  const started = Date.now();
  await migrate(runId, 2, 20);
  await eventually(async () => {
    const { rows } = await t.control.query<{ scanned: number }>(`SELECT max((checkpoint->'checkpoint'->>'scanned')::int) AS scanned FROM upshift.steps WHERE run_id = $1 AND kind = 'shard'`, [runId]);
    return (rows[0]?.scanned ?? 0) >= 200 ? true : undefined;
  }, 60_000);
  const child = t.harness.dev.functions[0]?.child;
  assert.ok(child?.pid, 'migrate-shard runs as a process');
  child.kill('SIGKILL');
  const completed = await t.waitForCount(t.verify, 'shard.completed', runId, 2, 120_000);
  console.log(`killed mid-shard; 2 shards completed ${Date.now() - started} ms after the request`);
  assert.equal(new Set(completed.map((e) => (e.data as { shardId: string }).shardId)).size, 2);
  assert.equal(await migratedOrdersChecksum(t.shop), expected, 'same result as an undisturbed run');
  assert.ok(completed.some((e) => Number((e.data as { durationMs: number }).durationMs) > 0));
  assert.deepEqual(await touches(), { max: 1, once: 2000 }, 'no row changed twice');
  const { rows } = await t.shop.query<{ n: number }>('SELECT count(*)::int AS n FROM upshift_backup.' + await backupTable());
  assert.equal(rows[0]?.n, 2000, 'one pre-image per row');
});

test('a worker SIGKILLed during a restore: the redelivered restore resumes after its last page, every row put back exactly once', async () => {
  await resetOrders(4000);
  const everyColumn = async () => (await t.shop.query<{ sum: string }>(
    `SELECT md5(string_agg(concat_ws('|', id, customer_id, amount, note, schema_version, amount_minor, currency), ',' ORDER BY id)) AS sum FROM orders`)).rows[0]?.sum;
  const before = await everyColumn();
  const runId = await t.startRun();
  await migrate(runId, 2, 200);
  await t.waitForCount(t.verify, 'shard.completed', runId, 2, 120_000);
  assert.deepEqual(await touches(), { max: 1, once: 4000 });
  await t.publish('rollback.requested', { runId, stage: 'rollout', reason: 'test: a later wave failed' });
  // Each row costs 1 ms to update (the trigger), so a 2,000-row shard restores over a few seconds, page by page.
  await eventually(async () => {
    const { rows } = await t.shop.query<{ restored: string }>(`SELECT coalesce(sum(restored), 0) AS restored FROM upshift_backup.upshift_restore_progress WHERE run_id = $1`, [runId]).catch(() => ({ rows: [] }));
    return Number(rows[0]?.restored ?? 0) > 0 ? true : undefined;
  }, 60_000);
  const child = t.harness.dev.functions[0]?.child;
  assert.ok(child?.pid, 'migrate-shard runs as a process');
  child.kill('SIGKILL');
  const { rows: [progress] } = await t.shop.query<{ restored: string; done: string }>(
    `SELECT sum(restored) AS restored, count(*) FILTER (WHERE phase = 'done') AS done FROM upshift_backup.upshift_restore_progress WHERE run_id = $1`, [runId]);
  console.log(`killed during the restore: ${progress?.restored} rows restored, ${progress?.done} of 2 shards done`);
  assert.ok(Number(progress?.done) < 2, 'the kill came before the restore ended');
  const done = await t.waitForCount(t.verify, 'shard.restore.done', runId, 2, 120_000);
  const outcomes = done.map((e) => e.data as { outcome: string; rowsRestored: number; conflicts: number });
  assert.deepEqual(outcomes.map((o) => o.outcome), ['restored', 'restored']);
  assert.equal(outcomes.reduce((sum, o) => sum + o.rowsRestored, 0), 4000, 'the totals count the rows restored before the kill too');
  assert.equal(outcomes.reduce((sum, o) => sum + o.conflicts, 0), 0);
  assert.equal(await everyColumn(), before, 'the same data as an undisturbed restore: exactly as before the migration');
  assert.deepEqual(await touches(), { max: 2, once: 0 }, 'every row changed exactly twice: migrated once, restored once');
});

test('the same shard.requested delivered twice at once: one holds the lease, the other gets 409 and later finds the work done', async () => {
  await resetOrders(1000);
  const expected = await expectedOrdersChecksum(t.shop);
  const runId = await t.startRun();
  const shardId = `${runId}:orders-currency@1:0`;
  const data = { runId, shardId, migration: 'orders-currency@1', index: 0, shards: 1, range: { start: null, end: null }, batchSize: 20, backup: true };
  const first = cliEvent('shard.requested', data);
  const [a, b] = await Promise.all([post(first), post(first)]);
  // No transaction is open while a shard is worked, so the copy is not queued behind the first: it finds
  // the shard's lease taken (409, retried later), or — arriving after the first decided — replays it.
  const seen = [a, b].map((r) => (r.status === 200 ? r.body.outcome : r.body.error?.code)).sort();
  assert.ok(['LEASE_HELD,handled', 'duplicate,handled'].includes(seen.join(',')), `one handles it, the copy is refused or replays: ${seen.join(', ')}`);
  const retried = await post(first);
  assert.equal(retried.body.outcome, 'duplicate', 'the retried copy replays the first handling');

  // Another worker holds the shard now: a second delivery for the same shard is refused with 409 and retried later.
  const control = new pg.Pool({ connectionString: t.harness.databaseUrl, max: 1 });
  const other = cliEvent('shard.requested', data);
  const leaseName = `shard:${shardId}`;
  try {
    const held = await takeLease(control, leaseName, 'another-worker', 10_000);
    try {
      const { rows: steps } = await t.control.query<{ status: string }>(`SELECT status FROM upshift.steps WHERE run_id = $1 AND key = $2`, [runId, shardId]);
      assert.notEqual(steps[0]?.status, 'completed', 'the shard is still unfinished while the other worker holds its lease');
      await assert.rejects(acquireLease(control, leaseName, 'a-third-worker', 1000), (err) => isUpshiftError(err) && err.code === 'LEASE_HELD',
        'while the other worker holds the lease no one else can take it');
      const refused = await post(other);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.code, 'LEASE_HELD', JSON.stringify(refused.body));
      assert.deepEqual(refused.body.error?.context, { lease: leaseName }, 'refused because of the shard lease');
      const { rows: [lease] } = await control.query<{ holder: string; token: string }>('SELECT holder, token FROM upshift.leases WHERE name = $1', [leaseName]);
      assert.deepEqual({ holder: lease?.holder, token: Number(lease?.token) }, { holder: 'another-worker', token: held.token }, 'both were refused by the lease of the other worker, held throughout');
    } finally {
      await releaseLease(control, held);
    }
  } finally {
    await control.end();
  }
  await t.waitForCount(t.verify, 'shard.completed', runId, 1, 90_000);
  const later = await post(other);
  assert.equal(later.status, 200, 'after the work is done the retried delivery succeeds');
  assert.deepEqual(later.body.outputs, [], 'and emits nothing: the shard is settled');
  // One completion event; the replays above may publish it again under the same id (consumers dedupe on it).
  assert.equal(new Set(t.typesOf(t.verify, 'shard.completed', runId).map((e) => e.id)).size, 1, 'one completion');
  assert.equal(await migratedOrdersChecksum(t.shop), expected);
  assert.deepEqual(await touches(), { max: 1, once: 1000 }, 'no row changed twice');
});

test('a row that violates a constraint after the transform: shard.failed names the row and the database error', async () => {
  await resetOrders(1000, 734);
  const runId = await t.startRun();
  await migrate(runId, 2, 50);
  const [failed] = await t.waitForCount(t.verify, 'shard.failed', runId, 1, 90_000);
  await t.waitForCount(t.verify, 'shard.completed', runId, 1, 90_000);
  const data = failed?.data as { shardId: string; reason: string; rowsMigrated: number };
  console.log(`shard.failed reason: ${data.reason}`);
  assert.match(data.reason, /amount_minor_limit/, 'the database error with its constraint');
  assert.match(data.reason, /row 734 cannot be migrated/, 'the failing row by its key');
  assert.match(data.reason, /last committed key 733/);
  const { rows } = await t.shop.query<{ migrated: number; failing: number }>(
    `SELECT count(*) FILTER (WHERE schema_version = 2 AND id < 734)::int AS migrated, count(*) FILTER (WHERE schema_version = 2 AND id = 734)::int AS failing FROM orders`);
  assert.equal(rows[0]?.failing, 0, 'the failing row is left as it was');
  assert.equal(rows[0]?.migrated, 733, 'every row before it in key order migrated');
  const { rows: steps } = await t.control.query<{ status: string }>(`SELECT status FROM upshift.steps WHERE run_id = $1 AND key = $2`, [runId, data.shardId]);
  assert.equal(steps[0]?.status, 'failed');
});

type PostBody = { outcome?: string; outputs?: string[]; error?: { code: string; context: Record<string, unknown> } };

async function post(event: AnyUpshiftEvent): Promise<{ status: number; body: PostBody }> {
  const url = t.harness.dev.functions[0]?.url ?? '';
  const message = encodeHttp(event);
  const response = await fetch(url, { method: 'POST', headers: message.headers, body: message.body });
  return { status: response.status, body: (await response.json()) as PostBody };
}

/** Takes `name` for `holder`, waiting out the real worker's hops (each holds the lease for a moment); any error but LEASE_HELD throws. */
async function takeLease(db: pg.Pool, name: string, holder: string, ttlMs: number): Promise<Lease> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await acquireLease(db, name, holder, ttlMs);
    } catch (err) {
      if (!(isUpshiftError(err) && err.code === 'LEASE_HELD') || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

async function backupTable(): Promise<string> {
  const { rows } = await t.shop.query<{ name: string }>(`SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'upshift_backup' AND table_name NOT LIKE 'upshift\\_%' LIMIT 1`);
  return rows[0]?.name ?? 'missing';
}
