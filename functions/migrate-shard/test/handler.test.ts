/**
 * migrate-shard's handler as Knative runs it (`init`, then `handle(context, event)`), on fixture events
 * for the example catalog's `orders-currency@1` over a small `orders` table in a fresh PostgreSQL
 * database: the expand DDL, the fan-out into one `shard.requested` per shard with a `shard` step each,
 * each shard migrated under its lease into `shard.completed`, and a redelivery that changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isEventOf, shardIdFor, uuidv7, type AnyUpshiftEvent } from '@upshift/events';
import { shardsOfRun, startRun, viewSteps, withTransaction, type HandleResult } from '@upshift/runtime';
import type pg from 'pg';
import { expectedOrdersChecksum, migratedOrdersChecksum, startHandlerWithShop, type HandlerWithShop } from './support.ts';
import { fixtureEvent } from '../../../test/support/handler.ts';

const ref = 'orders-currency@1';
let fixture: HandlerWithShop;
let t: HandlerWithShop['t'];
let shop: pg.Client;

before(async () => {
  fixture = await startHandlerWithShop(1200);
  ({ t, shop } = fixture);
});

after(async () => {
  await fixture?.stop();
});

/** A run row (shard steps reference it). */
async function newRun(): Promise<string> {
  const runId = uuidv7();
  await withTransaction(t.store, async (tx) => void assert.ok(await startRun(tx, runId, {}, [])));
  return runId;
}

async function handled(event: unknown): Promise<{ result: HandleResult; outputs: AnyUpshiftEvent[] }> {
  const result = await t.handle(event);
  assert.equal(result.statusCode, 200, JSON.stringify(result.body));
  assert.equal(result.body['outcome'], 'handled');
  return { result, outputs: await t.outputsOf(result) };
}

const expandRequested = (runId: string) => fixtureEvent('migration.expand.requested', (data) => ({ ...data, runId, migrations: [ref] }));

/** The fixture `migration.requested` for `runId` (one postgres migration, `shards` shards of 200-row batches). */
const migrationRequested = (runId: string, shards: number) => fixtureEvent('migration.requested', (data) => ({
  ...data, runId, migrations: data.migrations.map((m) => ({ ...m, ref, shards, batchSize: 200 })),
}));

/** Fans the run out and returns its `shard.requested` events. */
async function fanOut(runId: string, shards: number) {
  const { outputs } = await handled(migrationRequested(runId, shards));
  return outputs.map((e) => (isEventOf(e, 'shard.requested') ? e : assert.fail(`unexpected ${e.type}`)));
}

/** Rows in the migration's backup table (its name is derived: the one table of the backup schema here). */
async function backupRows(): Promise<number> {
  const { rows: tables } = await shop.query<{ name: string }>(
    `SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'upshift_backup' AND table_name NOT LIKE 'upshift\\_%'`);
  assert.equal(tables.length, 1, JSON.stringify(tables));
  const { rows } = await shop.query<{ n: number }>(`SELECT count(*)::int AS n FROM upshift_backup.${tables[0]?.name ?? 'missing'}`);
  return rows[0]?.n ?? 0;
}

async function ordersAt(version: number): Promise<number> {
  const { rows } = await shop.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE schema_version = $1', [version]);
  return rows[0]?.n ?? 0;
}

test('migration.expand.requested runs the additive DDL and answers migration.expand.done', { timeout: 20_000 }, async () => {
  const runId = await newRun();
  const { outputs } = await handled(expandRequested(runId));
  const [done, ...rest] = outputs;
  assert.deepEqual(rest, []);
  assert.ok(done && isEventOf(done, 'migration.expand.done'), done?.type);
  assert.deepEqual(done.data, { runId, migrations: [ref] });
  const { rows } = await shop.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' AND column_name IN ('amount_minor', 'currency') ORDER BY 1`);
  assert.deepEqual(rows.map((r) => r.column_name), ['amount_minor', 'currency']);
  assert.equal(await ordersAt(1), 1200, 'expand changes no row');
  const [published] = await t.published([done.id]);
  assert.equal(t.transport.published.find((m) => m.event.id === published?.id)?.topic, 'mem.upshift.rollout');
});

test('migration.requested fans out one shard.requested per shard and records a pending shard step for each', { timeout: 20_000 }, async () => {
  const runId = await newRun();
  const requests = await fanOut(runId, 2);
  const ids = [0, 1].map((index) => shardIdFor(runId, ref, index));
  assert.deepEqual(requests.map((e) => e.data.shardId), ids);
  assert.deepEqual(requests.map((e) => e.partitionkey), ids, 'keyed by shard');
  const [first, second] = requests.map((e) => e.data);
  assert.ok(first && second);
  assert.equal(first.range.start, null);
  assert.equal(second.range.end, null);
  assert.equal(first.range.end, second.range.start, 'the ranges cover the key space without a gap');
  assert.ok(requests.every((e) => e.data.shards === 2 && e.data.batchSize === 200 && e.data.backup));

  const shards = await shardsOfRun(t.store, runId);
  assert.deepEqual(shards.map((s) => [s.shardId, s.status]), ids.map((id) => [id, 'pending']));
  assert.ok(shards.every((s) => (s.checkpoint as { migration?: string }).migration === ref), 'each step keeps the shard as planned');
  assert.equal(await ordersAt(1), 1200, 'a fan-out migrates nothing');
  await t.published(requests.map((e) => e.id));
  assert.ok(t.transport.published.filter((m) => m.event.data.runId === runId).every((m) => m.topic === 'mem.upshift.migrate-shard'));
});

test('each shard.requested migrates its range under its lease and answers shard.completed; together every row is migrated', { timeout: 20_000 }, async () => {
  const runId = await newRun();
  await handled(expandRequested(runId));
  const expected = await expectedOrdersChecksum(shop);
  const pending = await ordersAt(1);
  const requests = await fanOut(runId, 2);

  const completions = [];
  for (const request of requests) {
    const { outputs } = await handled(request);
    const [completed, ...rest] = outputs;
    assert.deepEqual(rest, []);
    assert.ok(completed && isEventOf(completed, 'shard.completed'), `${request.data.shardId}: ${completed?.type}`);
    assert.equal(completed.data.shardId, request.data.shardId);
    assert.equal(completed.partitionkey, request.data.shardId);
    assert.ok(completed.data.rowsMigrated > 0, 'each shard holds rows');
    completions.push(completed);
  }
  assert.equal(completions.reduce((sum, e) => sum + e.data.rowsMigrated, 0), pending, 'every pending row migrated once');
  assert.equal(await ordersAt(1), 0);
  assert.equal(await migratedOrdersChecksum(shop), expected, 'rows migrated as the catalog says');

  const steps = await viewSteps(t.store, runId, 'shard');
  assert.deepEqual(steps.map((s) => s.status), ['completed', 'completed']);
  assert.ok(steps.every((s) => s.attempt === 1 && s.finishedAt), JSON.stringify(steps.map((s) => [s.attempt, s.finishedAt])));
  const { rows: leases } = await t.store.query<{ holder: string | null }>(`SELECT holder FROM upshift.leases WHERE name = ANY($1::text[])`, [requests.map((e) => `shard:${e.data.shardId}`)]);
  assert.deepEqual(leases.map((l) => l.holder), [null, null], 'each lease is released with the decision');
  const published = await t.published(completions.map((e) => e.id));
  assert.ok(published.every((e) => t.transport.published.some((m) => m.event.id === e.id && m.topic === 'mem.upshift.verify')));
});

test('a redelivered shard.requested migrates nothing again and emits nothing new', { timeout: 20_000 }, async () => {
  await shop.query(`INSERT INTO orders SELECT g, g % 500, g / 100.0, 'late order ' || g, 1 FROM generate_series(5001, 5300) g`);
  const runId = await newRun();
  await handled(expandRequested(runId));
  const pending = await ordersAt(1);
  assert.ok(pending >= 300);
  const [request] = await fanOut(runId, 1);
  assert.ok(request);
  const first = await handled(request);
  const [completed] = first.outputs;
  assert.ok(completed && isEventOf(completed, 'shard.completed'), completed?.type);
  assert.equal(completed.data.rowsMigrated, pending);
  await t.published([completed.id]);
  const outbox = await t.outboxCount(runId);
  const step = await viewSteps(t.store, runId, 'shard');
  const backups = await backupRows();
  assert.equal(backups, pending, 'the run backed up each row it changed (expand emptied older runs\' backups)');

  const again = await t.handle(request);
  assert.equal(again.statusCode, 200);
  assert.deepEqual(again.body, { outcome: 'duplicate', outputs: first.result.body['outputs'] });
  assert.equal(await t.outboxCount(runId), outbox, 'no new event in the outbox');
  assert.deepEqual(await viewSteps(t.store, runId, 'shard'), step, 'the shard step is untouched');
  assert.equal(await backupRows(), backups, 'no row backed up twice');
});
