/** Test databases: one per test file, created from POSTGRES_ADMIN_URL and dropped afterwards. */
import assert from 'node:assert/strict';
import pg from 'pg';

/** A throw-away database and a client connected to it. */
export interface TestDatabase {
  name: string;
  url: string;
  client: pg.Client;
  drop: () => Promise<void>;
}

/** Creates a uniquely named database (safe to run concurrently with other suites). */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const adminUrl = process.env.POSTGRES_ADMIN_URL;
  assert.ok(adminUrl, 'POSTGRES_ADMIN_URL must be set (eval "$(node stack/src/cli.ts env)" or run through npm test)');
  const name = `upshift_mig_${label}_${process.pid}_${Date.now() % 1_000_000}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const drop = async () => {
    await client.end().catch(() => undefined);
    const dropper = new pg.Client({ connectionString: adminUrl });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await dropper.end();
  };
  return { name, url: url.toString(), client, drop };
}

/** Creates `orders` (bigint key, the shape of the example catalog) with `rows` rows at schema_version 1; ids = 1..rows × step. */
export async function seedOrders(client: pg.Client, rows: number, options: { table?: string; step?: number } = {}): Promise<void> {
  const table = pg.escapeIdentifier(options.table ?? 'orders');
  const step = options.step ?? 1;
  await client.query(`CREATE TABLE ${table} (
    id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text,
    created_at timestamptz NOT NULL, schema_version integer NOT NULL DEFAULT 1)`);
  await client.query(`INSERT INTO ${table}
    SELECT g * $2::bigint, g % 5000, CASE WHEN g % 97 = 0 THEN NULL ELSE ((g * 7919) % 100000) / 100.0 END,
           'order note ' || g, timestamptz '2026-01-01' + g * interval '1 minute', 1
      FROM generate_series(1, $1::integer) g`, [rows, step]);
  await client.query(`ANALYZE ${table}`);
}

/** md5 over every row of a query's output in key order: equal checksums mean equal contents. */
export async function checksum(client: pg.Client, rowsSql: string): Promise<string> {
  const result = await client.query<{ sum: string | null }>(`SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r.id), '')) AS sum FROM (${rowsSql}) r`);
  return result.rows[0]?.sum ?? '';
}

/** Rows of `table` in each key range (key column `id`, compared as the column's own type). */
export async function rowsPerRange(db: TestDatabase, table: string, ranges: ReadonlyArray<{ start: string | null; end: string | null }>): Promise<number[]> {
  const counts: number[] = [];
  const keyType = await keyTypeOf(db, table);
  for (const range of ranges) {
    const result = await db.client.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM ${pg.escapeIdentifier(table)} WHERE ($1::text IS NULL OR id >= $1::text::${keyType}) AND ($2::text IS NULL OR id < $2::text::${keyType})`,
      [range.start, range.end]);
    counts.push(result.rows[0]?.n ?? 0);
  }
  return counts;
}

async function keyTypeOf(db: TestDatabase, table: string): Promise<string> {
  const result = await db.client.query<{ type: string }>(`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'id'`, [table]);
  return result.rows[0]?.type ?? 'bigint';
}
