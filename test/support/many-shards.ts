/**
 * Runs of many small shards (issue 18), shared by test/many-shards.test.ts and bench/src/many-shards.ts:
 * catalog entries that are the example's orders migration on tables of their own, the tables seeded with
 * two rows per shard, and `upshift status` run as a person runs it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createEvent, policyLimits, uuidv7, type AnyUpshiftEvent } from '@upshift/events';
import type pg from 'pg';
import { startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { publishEvents } from '../../runtime/test/support/publish.ts';
import { clusterNames, deploy, deployment } from './kube.ts';
import { testPolicy } from './policy.ts';

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

/** The four functions on a fresh harness with a catalog of `migrations` many-shards entries, `concurrency` shards at a time. */
export interface ManyShards {
  readonly t: ShardTest;
  readonly refs: readonly string[];
  readonly tables: readonly string[];
  stop(): Promise<void>;
}

export async function startManyShards(migrations: number, concurrency = 8): Promise<ManyShards> {
  const catalog = manyShardsCatalog(migrations);
  const t = await startShardTest({
    functions: ['plan', 'rollout', 'migrate-shard', 'verify'],
    extraEnv: { UPSHIFT_CATALOG_DIR: catalog.dir, UPSHIFT_SHARD_CONCURRENCY: String(concurrency) },
    dev: { concurrency: { 'migrate-shard': concurrency } },
  });
  return {
    t, refs: catalog.refs, tables: catalog.tables,
    async stop() {
      await t.stop();
      rmSync(catalog.dir, { recursive: true, force: true });
    },
  };
}

/**
 * Publishes a run in `namespace` whose migration i has `split[i]` shards: the workload already at its
 * target in every cluster, each migration's table seeded with two rows per shard. Answers the run id and
 * when it was published.
 */
export async function publishManyShardsRun(run: ManyShards, namespace: string, split: readonly number[]): Promise<{ runId: string; started: number }> {
  const image = 'registry.local/many/web:2.0.0';
  for (const cluster of clusterNames) await deploy(cluster, namespace, [deployment('web', image)]);
  for (const [i, count] of split.entries()) await seedTable(run.t.shop, run.tables[i]!, count * 2);
  const document = testPolicy(namespace, [{ name: 'web', image }]);
  const migrations = split.map((count, i) => ({ ref: run.refs[i]!, shards: count, batchSize: 100, backup: true }));
  const policy = { ...document, spec: { ...document.spec, migrations } };
  const runId = uuidv7();
  const started = Date.now();
  await publishEvents(run.t.harness.env, run.t.harness.prefix, [createEvent('upgrade.requested', { runId, policy: policy as never }, { producer: 'cli' }) as AnyUpshiftEvent]);
  return { runId, started };
}

/** Runs `upshift status <args>` in a process of its own; returns what it printed and how long it took. */
export async function upshiftStatus(args: readonly string[], databaseUrl: string): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, ['cli/src/upshift.ts', 'status', ...args, '--database-url', databaseUrl], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  return { ms: performance.now() - started, stdout };
}
