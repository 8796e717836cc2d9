/**
 * Restore benchmark (issue 13): upshift's guarded restore of a migrated PostgreSQL table (only the
 * migrated columns, only where they still hold what the migration wrote, findings and progress recorded
 * per page) against the whole-row restore upshift had before (every backed-up row upserted whole, every
 * column overwritten), measured in the same run on the same server and the same rows. Both restore the
 * same 8 key ranges with the same number in flight. Size: BENCH_RESTORE_ROWS (default 200,000).
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { initialCheckpoint, openEngine, runShard } from '@upshift/migrations';
import type { KeyRange } from '@upshift/migrations';
import { freshTable, postgresMigration, timed, withBenchDatabase } from './migrations.ts';

const rows = Number(process.env.BENCH_RESTORE_ROWS ?? 200_000);
const workers = Number(process.env.BENCH_MIGRATION_WORKERS ?? 2);
const shards = 8;
const print = (line: string) => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const columns = ['id', 'customer_id', 'amount', 'note', 'created_at', 'line', 'schema_version', 'amount_minor', 'currency'];

/** Runs `work` on every range with `workers` in flight. */
async function eachRange(ranges: KeyRange[], work: (range: KeyRange, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < ranges.length) {
      const index = next++;
      await work(ranges[index]!, index);
    }
  }));
}

/** The restore upshift had before issue 13: each page of the whole-row backup upserted, every column overwritten. */
async function wholeRowRestore(url: string, table: string, backup: string, range: KeyRange): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const updates = columns.filter((column) => column !== 'id').map((column) => `${column} = EXCLUDED.${column}`).join(', ');
    let after = range.start === null ? null : String(Number(range.start) - 1);
    for (;;) {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const { rows: [page] } = await client.query<{ last: string | null; paged: number }>(
        `WITH page AS (SELECT ${columns.join(', ')} FROM ${backup} WHERE ($1::bigint IS NULL OR id > $1) AND ($2::bigint IS NULL OR id < $2) ORDER BY id LIMIT 5000),
         restored AS (INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM page ON CONFLICT (id) DO UPDATE SET ${updates} RETURNING 1)
         SELECT (SELECT max(id) FROM page)::text AS last, (SELECT count(*)::integer FROM page) AS paged, (SELECT count(*) FROM restored) AS n`, [after, range.end]);
      await client.query('COMMIT');
      if (!page || page.paged < 5000 || page.last === null) return;
      after = page.last;
    }
  } finally {
    await client.end();
  }
}

/** Guarded restore ÷ whole-row restore of the same migrated rows. */
export async function benchRestore(): Promise<void> {
  const adminUrl = process.env.POSTGRES_ADMIN_URL;
  if (!adminUrl) throw new Error('bench restore: POSTGRES_ADMIN_URL is not set (eval "$(node stack/src/cli.ts env)")');
  await withBenchDatabase(adminUrl, 'restore', async (databaseUrl, client) => {
    const url = databaseUrl.toString();
    await client.query(`CREATE TABLE bench_base AS
      SELECT g::bigint AS id, (g % 50000)::bigint AS customer_id, ((g * 7919) % 100000) / 100.0 AS amount,
             'order ' || g || ' ' || repeat(md5(g::text), 3) AS note, timestamptz '2026-01-01' + g * interval '1 second' AS created_at,
             jsonb_build_object('sku', g % 997, 'qty', g % 7) AS line, 1 AS schema_version, NULL::bigint AS amount_minor, NULL::text AS currency
        FROM generate_series(1::bigint, $1::bigint) g`, [rows]);
    const ranges: KeyRange[] = Array.from({ length: shards }, (_, i) => ({
      start: i === 0 ? null : String(Math.floor((rows * i) / shards) + 1), end: i === shards - 1 ? null : String(Math.floor((rows * (i + 1)) / shards) + 1),
    }));

    // Baseline: today's whole-row backup (every column of every row) and the migration, then the whole-row restore.
    await freshTable(client, 'whole');
    await client.query('CREATE TABLE whole_backup AS SELECT * FROM whole; ALTER TABLE whole_backup ADD PRIMARY KEY (id)');
    await client.query(`UPDATE whole SET amount_minor = round(coalesce(amount, 0) * 100)::bigint, currency = 'EUR', schema_version = 2`);
    await client.query('VACUUM ANALYZE whole');
    const whole = await timed(() => eachRange(ranges, (range) => wholeRowRestore(url, 'whole', 'whole_backup', range)));

    // upshift: backfill with backup (not timed), then the guarded restore of the same ranges.
    await freshTable(client, 'guarded');
    const engine = openEngine(postgresMigration('guarded'), { BENCH_DATABASE_URL: url }, { poolSize: workers + 1 });
    try {
      await engine.expand('bench-run');
      await eachRange(ranges, (range) => runShard({ engine, shard: { range, backup: true }, checkpoint: initialCheckpoint(1000), onBatch: async () => undefined }));
      await client.query('VACUUM ANALYZE guarded');
      let restored = 0;
      const guarded = await timed(() => eachRange(ranges, async (range, index) => {
        const result = await engine.restoreShard(range, { runId: "bench-run", shardId: `bench-run:${index}` });
        restored += result.restored;
      }));
      const same = await client.query<{ n: number }>(`SELECT count(*)::integer AS n FROM guarded g JOIN whole w USING (id) WHERE (g.*)::text IS DISTINCT FROM (w.*)::text`);
      print(`PostgreSQL restore of ${rows} migrated rows (${shards} key ranges, ${workers} in flight):`);
      print(`  whole-row restore (before issue 13):             ${seconds(whole)}`);
      print(`  guarded restore (${restored} rows put back):        ${seconds(guarded)}  = ${(guarded / whole).toFixed(2)}× whole-row   goal ≤ 1.5×`);
      print(`  rows that differ between the two results:        ${same.rows[0]?.n ?? '?'} (must be 0)`);
    } finally {
      await engine.close();
    }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchRestore().catch((error: unknown) => {
    process.stderr.write(`bench restore: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
