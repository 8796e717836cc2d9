/**
 * The store throttle on the real stack: a session blocked on the table by someone else's lock makes a
 * shard hold (no batch queues behind the lock) and resume when the lock is released, with the
 * application's writes all kept; two shards of one store share its rows/s budget and its batch slots,
 * whose adaptive cap comes down to 1 while the table is blocked and grows back after;
 * FerretDB's missing signals are reported, not silently ignored.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { StrategyThrottle } from '@upshift/events/contract';
import { defaultBatchSizeLimits, initialCheckpoint, loadCatalog, migrationByRef, MongoMigrationFile, openEngine, openSignalReader, runShard } from '@upshift/migrations';
import type { BatchRequest, MigrationEngine, MongoMigration } from '@upshift/migrations';
import { createPool, giveBackStoreBatchSlot, migrateStore, takeStoreBatchSlot } from '@upshift/runtime';
import { ordersMigrationYaml, writeCatalog } from '../../../migrations/test/helpers/catalog.ts';
import { lastWrites, startOrdersWriter } from '../../../migrations/test/helpers/orders-writer.ts';
import { createTestDatabase, seedOrders, type TestDatabase } from '../../../migrations/test/helpers/postgres.ts';
import { StoreBatchSlots } from '../src/adapters/store-batch-slots.ts';
import { StoreBudget } from '../src/adapters/store-budget.ts';
import { growAfterMs } from '../src/core/batches-in-flight.ts';
import { decideThrottle, type ThrottleState } from '../src/core/throttle.ts';
import { StoreThrottle } from '../src/store-throttle.ts';

const rows = 4000;
const catalog = writeCatalog({ 'orders-throttle@1.yaml': ordersMigrationYaml({ name: 'orders-throttle', table: 'orders' }) });
let db: TestDatabase;
let control: ReturnType<typeof createPool>;

before(async () => {
  db = await createTestDatabase('throttle');
  // The shared budget's table lives in a control store: here, the control store's schema in the test's own database.
  control = createPool(db.url);
  await migrateStore(control);
});
after(async () => {
  await control?.end();
  await db?.drop();
  catalog.remove();
});

const migration = () => migrationByRef(loadCatalog(catalog.dir), 'orders-throttle@1');

async function freshOrders(): Promise<MigrationEngine> {
  await db.client.query('DELETE FROM upshift.store_budgets');
  await db.client.query('DROP TABLE IF EXISTS orders; DROP SCHEMA IF EXISTS upshift_backup CASCADE');
  await seedOrders(db.client, rows);
  const engine = openEngine(migration(), { TEST_DATABASE_URL: db.url });
  await engine.expand('run-throttle');
  return engine;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a session blocked on the table by another lock holds the shard, which resumes when the lock goes; no application write is lost', async () => {
  const engine = await freshOrders();
  const reader = openSignalReader(migration(), { TEST_DATABASE_URL: db.url });
  const blocker = new pg.Client({ connectionString: db.url, application_name: 'blocker' });
  await blocker.connect();
  const writer = startOrdersWriter({ url: db.url, perSecond: 100, mix: { note: 4, amount: 4, 'insert-v1': 2 }, existingIds: () => 1 + Math.floor(Math.random() * rows), firstNewId: rows + 1 });
  const states: ThrottleState[] = [];
  const batchesAt: number[] = [];
  try {
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE orders IN SHARE MODE'); // blocks every INSERT/UPDATE, the shard's too
    await until('the application to be blocked', async () => (await db.client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'orders-app' AND wait_event_type = 'Lock'`)).rows[0]?.n === 1);
    const throttle = new StoreThrottle({
      reader, budget: new StoreBudget(control, reader.storeKey), limits: StrategyThrottle.parse({}), signal: new AbortController().signal,
      until: Number.POSITIVE_INFINITY, onChange: (state) => states.push(state),
    });
    const shard = runShard({
      engine: throttle.wrap(engine), shard: { range: { start: null, end: null }, backup: true }, checkpoint: initialCheckpoint(500),
      onBatch: async () => { batchesAt.push(Date.now()); },
    });
    await until('the shard to hold', async () => throttle.state?.state === 'held');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(batchesAt.length, 0, 'no batch ran (or queued behind the lock) while the table was blocked');
    assert.match(throttle.state?.reason ?? '', /1 session waiting for locks on public\.orders.*not ours/);
    const releasedAt = Date.now();
    await blocker.query('ROLLBACK');
    const final = await shard;
    assert.equal(final.done, true, 'the shard finished after the lock went');
    assert.ok((batchesAt[0] ?? 0) >= releasedAt, 'its first batch committed after the release');
    assert.deepEqual(states.map((state) => state.state).slice(0, 1), ['held'], 'it held first');
    assert.ok(states.some((state) => state.state === 'clear'), `it came back to clear (${states.map((state) => state.state).join(', ')})`);
  } finally {
    await blocker.query('ROLLBACK').catch(() => undefined);
    await blocker.end();
    await writer.stop();
    await reader.close();
  }
  assert.deepEqual(writer.failures, [], 'no application write failed');
  const { values, inserted } = lastWrites(writer.ledger);
  const current = new Map((await db.client.query<{ id: string; note: string; amount: string | null }>('SELECT id, note, amount::text FROM orders')).rows
    .map((row) => [Number(row.id), row as Record<string, string | null>]));
  for (const { id, column, value } of values.values()) assert.equal(current.get(id)?.[column], value, `the write of ${column} on row ${id} is kept`);
  for (const id of inserted.keys()) assert.ok(current.has(id), `row ${id}, inserted by the application, is there`);
  assert.ok(writer.ledger.length > 50, `the application wrote throughout (${writer.ledger.length} writes)`);
  const { rows: left } = await db.client.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE id <= $1 AND schema_version <> 2', [rows]);
  assert.equal(left[0]?.n, 0, 'every row that existed before is migrated');
  await engine.close();
});

test('two shards of one store share its rows/s budget: together they stay within it', async () => {
  const engine = await freshOrders();
  const reader = openSignalReader(migration(), { TEST_DATABASE_URL: db.url });
  const limits = StrategyThrottle.parse({ storeRowsPerSecond: 2000 });
  const budget = new StoreBudget(control, reader.storeKey);
  try {
    const started = performance.now();
    let changed = 0;
    await Promise.all([{ start: null, end: String(rows / 2 + 1) }, { start: String(rows / 2 + 1), end: null }].map(async (range) => {
      const throttle = new StoreThrottle({ reader, budget, limits, signal: new AbortController().signal, until: Number.POSITIVE_INFINITY });
      const final = await runShard({
        engine: throttle.wrap(engine), shard: { range, backup: true }, checkpoint: initialCheckpoint(250), limits: { ...defaultBatchSizeLimits, max: 500 }, onBatch: async () => undefined,
      });
      changed += final.changed;
    }));
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`# ${changed} rows in ${seconds.toFixed(2)} s over two shards at a store budget of 2000 rows/s\n`);
    assert.equal(changed, rows);
    // Every batch reserves its rows before it runs: the last reservation (≤ 500 rows) starts after all others, (rows - 500) / 2000 s.
    assert.ok(seconds >= (rows - 500) / 2000, `the two shards together kept to 2000 rows/s (${(changed / seconds).toFixed(0)} rows/s)`);
  } finally {
    await reader.close();
    await engine.close();
  }
});

/** `engine` with how many of its batches run at once counted (the most at any time in `peak`). */
function countingInFlight(engine: MigrationEngine): { engine: MigrationEngine; peak: () => number } {
  let now = 0;
  let peak = 0;
  const counted = new Proxy(engine, {
    get: (target, property) => {
      if (property === 'runBatch') {
        return async (request: BatchRequest) => {
          peak = Math.max(peak, ++now);
          try {
            return await target.runBatch(request);
          } finally {
            now -= 1;
          }
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { engine: counted, peak: () => peak };
}

for (const inFlight of [1, 2]) {
  test(`four shards of one store run at most storeBatchesInFlight = ${inFlight} batch(es) at once, and migrate every row`, async () => {
    const engine = await freshOrders();
    const reader = openSignalReader(migration(), { TEST_DATABASE_URL: db.url });
    const limits = StrategyThrottle.parse({ storeBatchesInFlight: inFlight });
    const counting = countingInFlight(engine);
    const quarter = rows / 4;
    const ranges = [0, 1, 2, 3].map((i) => ({ start: i === 0 ? null : String(i * quarter + 1), end: i === 3 ? null : String((i + 1) * quarter + 1) }));
    try {
      const finals = await Promise.all(ranges.map((range) => {
        // Each shard has its own throttle and slots holder, as each shard invocation does.
        const throttle = new StoreThrottle({ reader, budget: new StoreBudget(control, reader.storeKey), slots: new StoreBatchSlots(control, reader.storeKey), limits, signal: new AbortController().signal, until: Number.POSITIVE_INFINITY });
        return runShard({ engine: throttle.wrap(counting.engine), shard: { range, backup: true }, checkpoint: initialCheckpoint(100), limits: { ...defaultBatchSizeLimits, max: 200 }, onBatch: async () => undefined });
      }));
      assert.equal(finals.reduce((sum, final) => sum + final.changed, 0), rows);
      assert.ok(counting.peak() <= inFlight, `at most ${inFlight} in flight (saw ${counting.peak()})`);
      const { rows: left } = await db.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM upshift.store_budgets WHERE starts_with(store, $1) AND held_until > clock_timestamp()`, [`${reader.storeKey}#batch:`]);
      assert.equal(left[0]?.n, 0, 'every slot was given back');
    } finally {
      await reader.close();
      await engine.close();
    }
  });
}

test('by default the store\'s cap of batches in flight adapts: a session blocked on the table lowers it to 1, it grows back once the lock goes, and is never exceeded', async () => {
  const engine = await freshOrders();
  const reader = openSignalReader(migration(), { TEST_DATABASE_URL: db.url });
  const blocker = new pg.Client({ connectionString: db.url, application_name: 'blocker' });
  const app = new pg.Client({ connectionString: db.url, application_name: 'orders-app' });
  await Promise.all([blocker.connect(), app.connect()]);
  const limits = StrategyThrottle.parse({});
  const throttles: StoreThrottle[] = [];
  // Each batch: when it ran, and the cap its slot was taken under.
  const batches: Array<{ start: number; end: number; cap: number }> = [];
  const recording = (throttle: StoreThrottle): MigrationEngine => new Proxy(engine, {
    get: (target, property) => {
      if (property === 'runBatch') {
        return async (request: BatchRequest) => {
          const batch = { start: performance.now(), end: Number.POSITIVE_INFINITY, cap: throttle.batchesInFlightCap ?? 0 };
          batches.push(batch);
          try {
            return await target.runBatch(request);
          } finally {
            batch.end = performance.now();
          }
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const sharedCap = async () => (await control.query<{ held_why: string }>(`SELECT held_why FROM upshift.store_budgets WHERE store = $1`, [`${reader.storeKey}#in-flight`])).rows[0]?.held_why;
  const quarter = rows / 4;
  const ranges = [0, 1, 2, 3].map((i) => ({ start: i === 0 ? null : String(i * quarter + 1), end: i === 3 ? null : String((i + 1) * quarter + 1) }));
  let blocked: Promise<unknown> | undefined;
  try {
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE orders IN SHARE MODE');
    blocked = app.query(`UPDATE orders SET note = 'app' WHERE id = 1`);
    const shards = ranges.map((range) => {
      const throttle = new StoreThrottle({ reader, budget: new StoreBudget(control, reader.storeKey), slots: new StoreBatchSlots(control, reader.storeKey), limits, signal: new AbortController().signal, until: Number.POSITIVE_INFINITY });
      throttles.push(throttle);
      return runShard({ engine: throttle.wrap(recording(throttle)), shard: { range, backup: true }, checkpoint: initialCheckpoint(10), limits: { ...defaultBatchSizeLimits, max: 10 }, onBatch: async () => undefined });
    });
    await until('the shared cap to come down to 1', async () => (await sharedCap())?.startsWith('{"cap":1,') === true);
    assert.match(await sharedCap() ?? '', /waiting for locks on public\.orders/, 'the cap says why');
    await until('a shard to show the cap', async () => throttles.some((throttle) => throttle.state?.batchesInFlight?.cap === 1));
    assert.equal(batches.length, 0, 'no batch ran while the table was blocked');
    await new Promise((resolve) => setTimeout(resolve, growAfterMs)); // the cap may grow again this long after its last change
    await blocker.query('ROLLBACK');
    await blocked;
    const finals = await Promise.all(shards);
    assert.equal(finals.reduce((sum, final) => sum + final.changed, 0), rows, 'every row migrated');
  } finally {
    await blocker.query('ROLLBACK').catch(() => undefined);
    await blocked?.catch(() => undefined);
    await Promise.all([blocker.end(), app.end()]);
    await reader.close();
    await engine.close();
  }
  const caps = batches.map((batch) => batch.cap);
  assert.equal(caps[0], 1, 'the first batch after the release ran under the lowered cap');
  assert.ok(Math.max(...caps) > 1, `the cap grew back once the store was quiet (caps ${[...new Set(caps)].join(', ')})`);
  for (const batch of batches) {
    const running = batches.filter((other) => other.start <= batch.start && other.end > batch.start);
    const allowed = Math.max(...running.map((other) => other.cap));
    assert.ok(running.length <= allowed, `${running.length} batches in flight under a cap of ${allowed}`);
  }
  const runs = caps.reduce<Array<[number, number]>>((all, cap) => {
    const last = all.at(-1);
    if (last?.[0] === cap) last[1] += 1;
    else all.push([cap, 1]);
    return all;
  }, []);
  process.stdout.write(`# ${batches.length} batches under caps ${runs.map(([cap, count]) => `${cap} ×${count}`).join(', ')}\n`);
});

test('a batch slot whose holder died comes back when its lease ends; a holder whose slot was taken over cannot give it back', async () => {
  await db.client.query('DELETE FROM upshift.store_budgets');
  const store = 'postgres://slots.test/db';
  const first = await takeStoreBatchSlot(control, store, 1, 'dead-worker', 50, 300);
  assert.ok(first.slot, 'the free slot is taken');
  const refused = await takeStoreBatchSlot(control, store, 1, 'waiting-worker', 50, 300);
  assert.equal(refused.slot, undefined, 'the only slot is taken');
  assert.ok(refused.freeAt !== undefined && refused.freeAt - refused.now <= 50, 'the answer says when it is expected back');
  await new Promise((resolve) => setTimeout(resolve, 350));
  const taken = await takeStoreBatchSlot(control, store, 1, 'waiting-worker', 50, 30_000);
  assert.equal(taken.slot, first.slot, 'the lease ended: the slot is free again');
  await giveBackStoreBatchSlot(control, first.slot, 'dead-worker');
  assert.equal((await takeStoreBatchSlot(control, store, 1, 'third-worker', 50, 300)).slot, undefined, 'the dead worker\'s late give-back left the new holder\'s slot alone');
  await giveBackStoreBatchSlot(control, first.slot, 'waiting-worker');
  assert.ok((await takeStoreBatchSlot(control, store, 1, 'third-worker', 50, 300)).slot, 'given back by its holder: free');
});

test('the operator\'s throttle query is the catalog migration\'s own SQL, run read-only on the store: its number holds the shard above max', async () => {
  await freshOrders();
  const withQuery = { ...migration(), throttleQuery: 'SELECT count(*) FROM orders WHERE id <= 7' } as ReturnType<typeof migration>;
  const reader = openSignalReader(withQuery, { TEST_DATABASE_URL: db.url });
  const bare = openSignalReader(migration(), { TEST_DATABASE_URL: db.url });
  try {
    const reading = await reader.read({ timeoutMs: 500 });
    assert.equal(reading.operatorValue, 7, 'the query ran on the migration\'s database');
    const held = decideThrottle({ signals: reading, limits: StrategyThrottle.parse({ query: { max: 5 } }), lastBatchMs: 10, batchSize: 100, target: 'public.orders' });
    assert.deepEqual([held.state, held.reason], ['held', 'throttle query 7 > 5']);
    const clear = decideThrottle({ signals: reading, limits: StrategyThrottle.parse({ query: { max: 7 } }), lastBatchMs: 10, batchSize: 100, target: 'public.orders' });
    assert.equal(clear.state, 'clear');
    const missing = await bare.read({ timeoutMs: 500 });
    assert.equal(missing.operatorValue, undefined, 'no query in the catalog: nothing to hold on');
    assert.deepEqual(missing.unavailable, ['throttle query (orders-throttle@1 has no throttleQuery in the catalog)']);
  } finally {
    await reader.close();
    await bare.close();
  }
});

test('FerretDB gives no lock queues or replication lag: the reader says so instead of reporting zero', async () => {
  const mongoUrl = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27117/';
  const file = MongoMigrationFile.parse({
    apiVersion: 'upshift.dev/v1alpha1', kind: 'Migration', name: 'customers-throttle', version: 1, store: 'mongodb', connection: 'TEST_MONGODB_URL',
    database: 'throttle_probe', collection: 'customers', marker: { field: 'schemaVersion', from: 1, to: 2 }, backfill: { set: { tier: 'standard' } },
  });
  const mongo: MongoMigration = { ...file, ref: 'customers-throttle@1', file: '(test)', checksum: '' };
  const reader = openSignalReader(mongo, { TEST_MONGODB_URL: mongoUrl });
  try {
    const reading = await reader.read();
    assert.equal(reading.blockedSessions, undefined);
    assert.deepEqual(reading.unavailable, ['lock queues', 'replication lag']);
    assert.equal(reader.storeKey, `mongodb://${new URL(mongoUrl).host}/throttle_probe`);
  } finally {
    await reader.close();
  }
});
