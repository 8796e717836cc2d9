/**
 * Migration benchmark (issue 7), every figure next to a baseline measured in the same run on the same
 * server: PostgreSQL (a) one raw UPDATE of the whole table — the physical limit; (b) upshift's backfill
 * without backup against (a); (c) with backup against (a) + CREATE TABLE AS of the same rows; (d) the
 * longest single batch transaction. MongoDB: upshift's backfill against the server's own updateMany
 * with the same $set. Sizes: BENCH_MIGRATION_ROWS (default 2,000,000), BENCH_MIGRATION_DOCS (default
 * 200,000; string `_id`s, which the stack's FerretDB finds through its `_id` index),
 * BENCH_MIGRATION_WORKERS (shards in flight, default 2), BENCH_MIGRATION_STORES (default
 * `postgres,mongodb`). Runs standalone (`node bench/src/migrations.ts`
 * with the stack env) or via benchMigrations().
 */
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { initialCheckpoint, MongoMigrationFile, openEngine, PostgresMigrationFile, runShard } from '@upshift/migrations';
import type { MigrationEngine, Migration } from '@upshift/migrations';
import { postgresTestSettings } from '../../stack/src/components/postgres.ts';

const rows = Number(process.env.BENCH_MIGRATION_ROWS ?? 2_000_000);
const docs = Number(process.env.BENCH_MIGRATION_DOCS ?? 200_000);
const workers = Number(process.env.BENCH_MIGRATION_WORKERS ?? 2);
const shards = 8;
const print = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The benchmark migration's change as one UPDATE's SET list (the raw UPDATE baselines). */
export const rawAssignment = `amount_minor = round(coalesce(amount, 0) * 100)::bigint, currency = coalesce(currency, 'EUR'), schema_version = 2`;

/** The benchmark's PostgreSQL migration of `table` (the example's orders-currency, with its own name). */
export function postgresMigration(table: string): Migration {
  const file = PostgresMigrationFile.parse({
    apiVersion: 'upshift.dev/v1alpha1', kind: 'Migration', name: table.replaceAll('_', '-'), version: 1, store: 'postgres', connection: 'BENCH_DATABASE_URL',
    table, key: 'id', marker: { column: 'schema_version', from: 1, to: 2 },
    backfill: { set: { amount_minor: 'round(coalesce(amount, 0) * 100)::bigint', currency: "coalesce(currency, 'EUR')" } },
  });
  return { ...file, ref: `${file.name}@1`, file: '(bench)', checksum: '' };
}

/** Times `work`. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** A fresh copy of the base table with its primary key and one secondary index, vacuumed (not timed). */
export async function freshTable(client: pg.Client, table: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} AS SELECT * FROM bench_base`);
  await client.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
  await client.query(`CREATE INDEX ON ${table} (customer_id)`);
  await client.query(`VACUUM ANALYZE ${table}`);
}

/** Runs every shard with `workers` in flight; returns the longest batch in ms. */
async function backfill(engine: MigrationEngine, backup: boolean): Promise<number> {
  await engine.expand();
  const ranges = await engine.splitShards(shards);
  let longest = 0;
  let next = 0;
  const worker = async () => {
    while (next < ranges.length) {
      const range = ranges[next++];
      if (!range) return;
      await runShard({
        engine, shard: { range, backup }, checkpoint: initialCheckpoint(1000),
        onBatch: async (_checkpoint, batch) => { longest = Math.max(longest, batch.durationMs); },
      });
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return longest;
}

async function seedPostgres(client: pg.Client): Promise<void> {
  await client.query(`CREATE TABLE bench_base AS
    SELECT g::bigint AS id, (g % 50000)::bigint AS customer_id, ((g * 7919) % 100000) / 100.0 AS amount,
           'order ' || g || ' ' || repeat(md5(g::text), 3) AS note, timestamptz '2026-01-01' + g * interval '1 second' AS created_at,
           jsonb_build_object('sku', g % 997, 'qty', g % 7) AS line, 1 AS schema_version, NULL::bigint AS amount_minor, NULL::text AS currency
      FROM generate_series(1::bigint, $1::bigint) g`, [rows]);
}

/** Runs `work` in a throw-away database `upshift_bench_<label>_<pid>`, dropped afterwards. */
export async function withBenchDatabase(adminUrl: string, label: string, work: (url: URL, client: pg.Client) => Promise<void>): Promise<void> {
  const name = `upshift_bench_${label}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await work(url, client);
  } finally {
    await client.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** The PostgreSQL figures (a)–(d). */
async function benchPostgres(adminUrl: string): Promise<void> {
  await withBenchDatabase(adminUrl, 'backfill', async (url, client) => {
    await seedPostgres(client);
    await freshTable(client, 'raw_update');
    const raw = await timed(() => client.query(`UPDATE raw_update SET ${rawAssignment} WHERE schema_version = 1`));
    await client.query('DROP TABLE raw_update');
    const ctas = await timed(() => client.query(`CREATE TABLE ctas_copy AS SELECT * FROM bench_base`));
    await client.query('DROP TABLE ctas_copy');
    const env = { BENCH_DATABASE_URL: url.toString() };
    const results: Record<string, { ms: number; longest: number }> = {};
    for (const [table, backup] of [['without_backup', false], ['with_backup', true]] as const) {
      await freshTable(client, table);
      const engine = openEngine(postgresMigration(table), env, { poolSize: workers + 1 });
      let longest = 0;
      const ms = await timed(async () => { longest = await backfill(engine, backup); });
      await engine.dropBackups();
      await engine.close();
      await client.query(`DROP TABLE ${table}`);
      results[table] = { ms, longest };
    }
    const withoutBackup = results.without_backup ?? { ms: 0, longest: 0 };
    const withBackup = results.with_backup ?? { ms: 0, longest: 0 };
    print(`PostgreSQL, ${rows} rows (~${Math.round(Number((await client.query(`SELECT avg(pg_column_size(b.*))::int AS w FROM (SELECT * FROM bench_base LIMIT 1000) b`)).rows[0]?.w ?? 0))} bytes/row), pkey + 1 secondary index, ${shards} shards, ${workers} in flight:`);
    print(`  (a) raw UPDATE of the whole table:               ${seconds(raw)}`);
    print(`  (b) upshift backfill without backup:             ${seconds(withoutBackup.ms)}  = ${(withoutBackup.ms / raw).toFixed(2)}× (a)   goal ≤ 1.3×`);
    print(`  (c) upshift backfill with backup:                ${seconds(withBackup.ms)}  = ${(withBackup.ms / (raw + ctas)).toFixed(2)}× ((a) + CREATE TABLE AS ${seconds(ctas)})   goal ≤ 1.3×`);
    print(`  (d) longest single batch transaction:            ${Math.max(withoutBackup.longest, withBackup.longest).toFixed(0)} ms   goal < 1000 ms`);
    print(`  PostgreSQL settings: ${Object.entries(postgresTestSettings).map(([key, value]) => `${key}=${value}`).join(' ')}`);
  });
}

/** The MongoDB figure: upshift's backfill against updateMany with the same $set. */
async function benchMongo(mongoUrl: string): Promise<void> {
  const database = `upshift_bench_${process.pid}`;
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 0 });
  const db = client.db(database);
  try {
    const seed = async (name: string) => {
      for (let start = 0; start < docs; start += 5000) {
        await db.collection<{ _id: string; name: string; email: string; schemaVersion: number }>(name).insertMany(Array.from({ length: Math.min(5000, docs - start) }, (_, i) => ({ _id: `c${String(start + i).padStart(8, '0')}`, name: `Customer ${start + i}`, email: `c${start + i}@example.com`, schemaVersion: 1 })));
      }
    };
    await seed('baseline');
    await seed('upshift');
    const set = { 'profile.tier': 'standard' };
    const baseline = await timed(() => db.collection('baseline').updateMany({ schemaVersion: 1 }, { $set: { ...set, schemaVersion: 2 } }));
    const file = MongoMigrationFile.parse({
      apiVersion: 'upshift.dev/v1alpha1', kind: 'Migration', name: 'bench-customers', version: 1, store: 'mongodb', connection: 'BENCH_MONGODB_URL',
      database, collection: 'upshift', marker: { field: 'schemaVersion', from: 1, to: 2 }, backfill: { set },
    });
    const engine = openEngine({ ...file, ref: 'bench-customers@1', file: '(bench)', checksum: '' }, { BENCH_MONGODB_URL: mongoUrl });
    let longest = 0;
    const upshift = await timed(async () => { longest = await backfill(engine, true); });
    await engine.close();
    print(`MongoDB wire protocol (${mongoUrl.includes('27117') ? 'FerretDB 1.24, SQLite, patched _id lookups' : 'MONGODB_URL'}), ${docs} documents, same $set:`);
    print(`  server's own updateMany:                         ${seconds(baseline)}`);
    print(`  upshift backfill (with backup, ${shards} shards):        ${seconds(upshift)}  = ${(upshift / baseline).toFixed(2)}× updateMany   goal ≤ 2×   (longest batch ${longest.toFixed(0)} ms)`);
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}

/** Runs the migration benchmarks against the stack (POSTGRES_ADMIN_URL, MONGODB_URL) and prints ratios. */
export async function benchMigrations(): Promise<void> {
  const stores = (process.env.BENCH_MIGRATION_STORES ?? 'postgres,mongodb').split(',');
  const adminUrl = process.env.POSTGRES_ADMIN_URL;
  if (!adminUrl) throw new Error('bench migrations: POSTGRES_ADMIN_URL is not set (eval "$(node stack/src/cli.ts env)")');
  if (stores.includes('postgres')) await benchPostgres(adminUrl);
  if (!stores.includes('mongodb')) return;
  if (process.env.MONGODB_URL) await benchMongo(process.env.MONGODB_URL);
  else print('MongoDB: skipped (MONGODB_URL is not set)');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchMigrations().catch((error: unknown) => {
    process.stderr.write(`bench migrations: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
