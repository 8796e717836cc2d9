/**
 * Writers inserting and updating rows while the backfill runs (pgroll#583: a backfill that chases
 * inserts never ends). The backfill must terminate, migrate every row that existed before its shard
 * started, and never lose a concurrent update (rows are locked, the backup and update see the same row).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { initialCheckpoint, loadCatalog, migrationByRef, openEngine, runShard } from '../src/index.ts';
import type { KeyRange } from '../src/index.ts';
import { ordersMigrationYaml, writeCatalog } from './helpers/catalog.ts';
import { createTestDatabase, seedOrders } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';

const rows = 50_000; // ids 2, 4, … 100 000; writers add odd ids inside the range and new ids beyond it
const catalog = writeCatalog({
  'busy@1.yaml': ordersMigrationYaml({ name: 'busy', table: 'busy' }),
  'twice@1.yaml': ordersMigrationYaml({ name: 'twice', table: 'twice', extraSet: { backfill_count: 'coalesce(backfill_count, 0) + 1' }, addColumns: ['{ name: backfill_count, type: integer }'] }),
});
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase('concurrent');
  await seedOrders(db.client, rows, { table: 'busy', step: 2 });
  await seedOrders(db.client, 20_000, { table: 'twice' });
});

after(async () => {
  await db?.drop();
  catalog.remove();
});

interface Writers {
  inserted: Array<{ id: number; committedAt: number }>;
  appended: number;
  updates: number;
  stop: () => Promise<void>;
}

function startWriters(url: string): Writers {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  const state: Writers = { inserted: [], appended: 0, updates: 0, stop: async () => undefined };
  let running = true;
  const insertInside = async () => {
    while (running) {
      const id = 2 * Math.floor(Math.random() * rows) + 1;
      const result = await pool.query(`INSERT INTO busy (id, customer_id, amount, created_at) VALUES ($1, 1, 9.99, now()) ON CONFLICT DO NOTHING`, [id]);
      if (result.rowCount === 1) state.inserted.push({ id, committedAt: performance.now() });
    }
  };
  const appendBeyond = async () => {
    for (let id = 2 * rows + 1; running; id += 1) {
      await pool.query(`INSERT INTO busy (id, customer_id, amount, created_at) VALUES ($1, 2, 1.50, now())`, [id]);
      state.appended += 1;
    }
  };
  const updateOld = async () => {
    while (running) {
      const id = 2 * (1 + Math.floor(Math.random() * rows));
      const result = await pool.query(`UPDATE busy SET amount = coalesce(amount, 0) + 1 WHERE id = $1 AND schema_version = 1`, [id]);
      state.updates += result.rowCount ?? 0;
    }
  };
  const loops = [insertInside(), appendBeyond(), updateOld()];
  state.stop = async () => {
    running = false;
    await Promise.all(loops);
    await pool.end();
  };
  return state;
}

test('terminates under concurrent inserts and updates, migrating every row that existed before its shard started', async () => {
  const engine = openEngine(migrationByRef(loadCatalog(catalog.dir), 'busy@1'), { TEST_DATABASE_URL: db.url });
  await engine.expand();
  const ranges = await engine.splitShards(4);
  const writers = startWriters(db.url);
  const shardStarts: number[] = [];
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Promise.all(ranges.map(async (range: KeyRange, index) => {
      shardStarts[index] = performance.now();
      await runShard({
        engine, shard: { range, backup: true }, checkpoint: initialCheckpoint(200),
        limits: { targetMs: 200, min: 100, max: 400, maxGrowth: 2, maxShrink: 0.25 }, onBatch: async () => undefined,
      });
    }));
  } finally {
    await writers.stop();
  }
  process.stdout.write(`# during the backfill: ${writers.inserted.length} rows inserted inside the key range, ${writers.appended} appended beyond it, ${writers.updates} old rows updated\n`);
  assert.ok(writers.appended > 0 && writers.updates > 0, 'the writers were active');

  const original = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM busy WHERE id % 2 = 0 AND id <= $1 AND schema_version <> 2`, [2 * rows]);
  assert.equal(original.rows[0]?.n, 0, 'every pre-existing row is migrated');
  const lost = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM busy WHERE schema_version = 2 AND amount_minor <> round(coalesce(amount, 0) * 100)`);
  assert.equal(lost.rows[0]?.n, 0, 'no concurrent update lost or overwritten');

  const firstStart = Math.min(...shardStarts);
  const early = writers.inserted.filter((row) => row.committedAt < firstStart).map((row) => row.id);
  const missed = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM busy WHERE id = ANY($1::bigint[]) AND schema_version <> 2`, [early]);
  assert.equal(missed.rows[0]?.n, 0, `rows inserted before the shards started are migrated (${early.length} of them)`);
  await engine.close();
});

test('the same shard run by two workers at once (a duplicate delivery before the lease decides) migrates each row once', async () => {
  const engine = openEngine(migrationByRef(loadCatalog(catalog.dir), 'twice@1'), { TEST_DATABASE_URL: db.url });
  try {
    await engine.expand();
    const [first] = await engine.splitShards(1);
    const shard = { range: first ?? { start: null, end: null }, backup: true };
    const limits = { targetMs: 200, min: 200, max: 200, maxGrowth: 1, maxShrink: 1 };
    const results = await Promise.all([1, 2].map(() => runShard({ engine, shard, checkpoint: initialCheckpoint(200), limits, onBatch: async () => undefined })));
    process.stdout.write(`# two workers on one shard changed ${results.map((result) => result.changed).join(' + ')} rows\n`);
    assert.equal(results.reduce((sum, result) => sum + result.changed, 0), 20_000);
    const wrong = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM twice WHERE backfill_count IS DISTINCT FROM 1 OR schema_version <> 2`);
    assert.equal(wrong.rows[0]?.n, 0);
    const backups = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM upshift_backup.twice__twice__v1 WHERE schema_version = 1 AND backfill_count IS NULL`);
    assert.equal(backups.rows[0]?.n, 20_000);
  } finally {
    await engine.close();
  }
});
