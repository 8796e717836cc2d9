/**
 * A migrating process SIGKILLed three times at random points, then resumed from its persisted
 * checkpoints: the final table equals an undisturbed run's, and no row was migrated twice (each
 * migration bumps `backfill_count`, so a second application would show as 2). The kill points come
 * from a seeded PRNG: the test prints its seed, and UPSHIFT_TEST_SEED=<seed> replays the same points.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { initialCheckpoint, loadCatalog, migrationByRef, openEngine } from '../src/index.ts';
import { ordersMigrationYaml, writeCatalog } from './helpers/catalog.ts';
import { checksum, createTestDatabase, seedOrders } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';
import { migrateAllShards } from './helpers/shards.ts';
import { seededRandom, seedLine, testSeed } from '../../test/support/seeded-random.ts';

const rows = 60_000;
const worker = fileURLToPath(new URL('./fixtures/shard-worker.ts', import.meta.url));
const extra = { extraSet: { backfill_count: 'coalesce(backfill_count, 0) + 1' }, addColumns: ['{ name: backfill_count, type: integer }'] };
const catalog = writeCatalog({
  'crashed@1.yaml': ordersMigrationYaml({ name: 'crashed', table: 'crashed', ...extra }),
  'calm@1.yaml': ordersMigrationYaml({ name: 'calm', table: 'calm', ...extra }),
});
const columns = 'id, customer_id, amount, note, created_at, schema_version, amount_minor, backfill_count';
const seed = testSeed();
let db: TestDatabase;

before(async () => {
  db = await createTestDatabase('crash');
  await seedOrders(db.client, rows, { table: 'crashed' });
  await seedOrders(db.client, rows, { table: 'calm' });
  await db.client.query(`CREATE TABLE crash_checkpoints (shard integer PRIMARY KEY, range jsonb NOT NULL, checkpoint jsonb NOT NULL, saves integer NOT NULL DEFAULT 0)`);
});

after(async () => {
  await db?.drop();
  catalog.remove();
});

async function progress(): Promise<{ changed: number; saves: number }> {
  const result = await db.client.query<{ changed: number; saves: number }>(
    `SELECT coalesce(sum((checkpoint->>'changed')::integer), 0)::integer AS changed, coalesce(sum(saves), 0)::integer AS saves FROM crash_checkpoints`);
  return result.rows[0] ?? { changed: 0, saves: 0 };
}

/** Where a worker is killed: once it has saved `afterSaves` more checkpoints, then `delayMs` later. */
interface KillPoint {
  afterSaves: number;
  delayMs: number;
}

async function runWorker(kill?: KillPoint): Promise<{ code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, [worker, db.url, catalog.dir, 'crashed@1'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  if (kill !== undefined) {
    const start = (await progress()).saves;
    const deadline = Date.now() + 60_000;
    while ((await progress()).saves < start + kill.afterSaves && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, kill.delayMs));
    child.kill('SIGKILL');
  }
  const [code, signal] = await exited;
  return { code, signal };
}

test('resumes from persisted checkpoints after three SIGKILLs: same table as an undisturbed run, no row migrated twice', async () => {
  const crashed = openEngine(migrationByRef(loadCatalog(catalog.dir), 'crashed@1'), { TEST_DATABASE_URL: db.url });
  await crashed.expand();
  const ranges = await crashed.splitShards(4);
  for (const [shard, range] of ranges.entries()) {
    await db.client.query('INSERT INTO crash_checkpoints (shard, range, checkpoint) VALUES ($1, $2, $3)', [shard, range, initialCheckpoint(100)]);
  }
  await crashed.close();

  const random = seededRandom(seed);
  const kills: KillPoint[] = Array.from({ length: 3 }, () => ({ afterSaves: 20 + Math.floor(random() * 100), delayMs: Math.floor(random() * 30) }));
  console.log(`${seedLine(seed)}: kill points ${kills.map((k) => `${k.afterSaves} saves + ${k.delayMs} ms`).join(', ')}`);
  for (const [kill, point] of kills.entries()) {
    const outcome = await runWorker(point);
    const { changed } = await progress();
    process.stdout.write(`# kill ${kill + 1}: ${outcome.signal ?? `exit ${outcome.code}`} after ${changed} of ${rows} rows checkpointed\n`);
    assert.equal(outcome.signal, 'SIGKILL', 'the worker was killed mid-run');
    assert.ok(changed < rows, 'killed before the end');
  }
  const final = await runWorker();
  assert.equal(final.code, 0);

  const calm = openEngine(migrationByRef(loadCatalog(catalog.dir), 'calm@1'), { TEST_DATABASE_URL: db.url });
  try {
    await calm.expand();
    await migrateAllShards(calm, await calm.splitShards(4));
  } finally {
    await calm.close();
  }
  const twice = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM crashed WHERE backfill_count IS DISTINCT FROM 1 OR schema_version <> 2`);
  assert.equal(twice.rows[0]?.n, 0, 'every row migrated exactly once');
  assert.equal(await checksum(db.client, `SELECT ${columns} FROM crashed`), await checksum(db.client, `SELECT ${columns} FROM calm`));
  const backups = await db.client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM upshift_backup.crashed__crashed__v1 WHERE schema_version = 1 AND backfill_count IS NULL`);
  assert.equal(backups.rows[0]?.n, rows, 'every backup is a true pre-image');
});
