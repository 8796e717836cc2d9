/**
 * The engine's connections terminated (`pg_terminate_backend`) three times while a shard runs: each
 * time the batch in flight fails as a retriable UNAVAILABLE (the process lives on), nothing of it
 * commits, and the shard resumed from its last checkpoint ends with every row migrated exactly once
 * (each application bumps `backfill_count`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { initialCheckpoint, isMigrationError, loadCatalog, migrationByRef, openEngine, runShard } from '../src/index.ts';
import type { MigrationEngine, PostgresMigration, ShardCheckpoint } from '../src/index.ts';
import { backupSchema, backupTableName } from '../src/postgres/sql.ts';
import { ordersMigrationYaml, writeCatalog } from './helpers/catalog.ts';
import { createTestDatabase, seedOrders } from './helpers/postgres.ts';
import type { TestDatabase } from './helpers/postgres.ts';

const rows = 3000;
const catalog = writeCatalog({
  'dropped@1.yaml': ordersMigrationYaml({ name: 'dropped', table: 'dropped', extraSet: { backfill_count: 'coalesce(backfill_count, 0) + 1' }, addColumns: ['{ name: backfill_count, type: integer }'] }),
});
let db: TestDatabase;
let engine: MigrationEngine;
let backupTable: string;

before(async () => {
  db = await createTestDatabase('dropped');
  await seedOrders(db.client, rows, { table: 'dropped' });
  // 1 ms per updated row: a batch of 100 is in flight for ~0.1 s, the shard for a few seconds.
  await db.client.query(`CREATE FUNCTION slow_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$;
    CREATE TRIGGER dropped_slow BEFORE UPDATE ON dropped FOR EACH ROW EXECUTE FUNCTION slow_update()`);
  const migration = migrationByRef(loadCatalog(catalog.dir), 'dropped@1');
  backupTable = `"${backupSchema}"."${backupTableName(migration as PostgresMigration)}"`;
  engine = openEngine(migration, { TEST_DATABASE_URL: db.url }, { poolSize: 2 });
  await engine.expand();
});

after(async () => {
  await engine?.close();
  await db?.drop();
  catalog.remove();
});

async function terminateEngineConnections(): Promise<number> {
  const { rows: [row] } = await db.client.query<{ n: number }>(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
    FROM pg_stat_activity WHERE application_name = 'upshift:dropped@1' AND datname = current_database()`);
  return row?.n ?? 0;
}

test('a shard whose connections are terminated 3 times resumes from its checkpoint; every row migrated exactly once', { timeout: 60_000 }, async () => {
  let checkpoint: ShardCheckpoint = initialCheckpoint(100);
  const failures: string[] = [];
  let faults = 0;
  while (!checkpoint.done) {
    const fault = faults < 3
      ? setTimeout(() => {
        faults += 1;
        terminateEngineConnections().catch(() => undefined);
      }, 400)
      : undefined;
    try {
      checkpoint = await runShard({
        engine, shard: { range: { start: null, end: null }, backup: true }, checkpoint,
        onBatch: async (committed) => { checkpoint = committed; },
      });
    } catch (error) {
      assert.ok(isMigrationError(error, 'UNAVAILABLE'), `a dropped connection is retriable: ${String(error)}`);
      failures.push(error.message);
    } finally {
      clearTimeout(fault);
    }
  }
  console.log(`${failures.length} batches failed on a dropped connection: ${[...new Set(failures.map((m) => m.replace(/^dropped@1: /, '')))].join(' | ')}`);
  assert.equal(faults, 3);
  assert.ok(failures.length >= 3, 'each fault failed the batch in flight');
  const { rows: [result] } = await db.client.query<{ migrated: number; max: number; once: number; backups: number }>(
    `SELECT count(*) FILTER (WHERE schema_version = 2)::int AS migrated, max(backfill_count)::int AS max,
       count(*) FILTER (WHERE backfill_count = 1)::int AS once, (SELECT count(*)::int FROM ${backupTable}) AS backups FROM dropped`);
  assert.deepEqual(result, { migrated: rows, max: 1, once: rows, backups: rows });
});
