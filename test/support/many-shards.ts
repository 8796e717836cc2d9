/**
 * Runs of many small shards (issue 18), shared by test/many-shards.test.ts and bench/src/many-shards.ts:
 * catalog entries that are the example's orders migration on tables of their own, the tables seeded with
 * two rows per shard, and `upshift status` run as a person runs it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { policyLimits } from '@upshift/events';
import type pg from 'pg';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

/** The most shards of one migration (the policy's bound; runs over 4,096 are announced by the v2 events). */
export const shardsPerMigration = policyLimits.shardsPerMigration;

/** Catalog entries `shards-<i>@1`: the example's orders migration, each on its own table `orders_<i>`. */
export function manyShardsCatalog(migrations: number): { dir: string; refs: string[]; tables: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'upshift-many-shards-'));
  const example = readFileSync(join(root, 'examples/catalog/orders-currency@1.yaml'), 'utf8');
  const refs: string[] = [];
  const tables: string[] = [];
  for (let i = 0; i < migrations; i++) {
    const table = `orders_${i}`;
    const text = example.replace(/^name: orders-currency$/m, `name: shards-${i}`)
      .replaceAll('orders_currency_idx', `${table}_currency_idx`).replace(/\borders\b/g, table);
    writeFileSync(join(dir, `shards-${i}@1.yaml`), text);
    refs.push(`shards-${i}@1`);
    tables.push(table);
  }
  return { dir, refs, tables };
}

/** Creates `table` (the orders shape) with `rows` rows at schema_version 1. */
export async function seedTable(shop: pg.Client, table: string, rows: number): Promise<void> {
  await shop.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text,
    schema_version integer NOT NULL DEFAULT 1)`);
  await shop.query(`INSERT INTO ${table} SELECT g, g % 500, (g % 1000) / 100.0, 'order ' || g, 1 FROM generate_series(1, $1::integer) g`, [rows]);
  await shop.query(`ANALYZE ${table}`);
}

/** Splits `shards` over as few migrations as the per-migration bound allows (one up to 100,000), as evenly as possible. */
export function shardsByMigration(shards: number): number[] {
  const migrations = Math.ceil(shards / shardsPerMigration);
  return Array.from({ length: migrations }, (_, i) => Math.floor(shards / migrations) + (i < shards % migrations ? 1 : 0));
}

/** Runs `upshift status <args>` in a process of its own; returns what it printed and how long it took. */
export async function upshiftStatus(args: readonly string[], databaseUrl: string): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, ['cli/src/upshift.ts', 'status', ...args, '--database-url', databaseUrl], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  return { ms: performance.now() - started, stdout };
}
