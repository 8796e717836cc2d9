/**
 * Online benchmark (issue 20): what an application feels while a table is migrated. An open-loop writer
 * at BENCH_ONLINE_RATE writes/s (default 200; 80 % single-row updates, 20 % inserts; latency from each
 * write's scheduled time to its commit) runs (a) alone, (b) during one raw UPDATE of the whole table,
 * (c) during upshift's backfill with the default policy (auto shards, batch 1000, backup on, the store
 * throttle's defaults), each on a fresh copy of the table. Printed: writer p99 during (c) ÷ alone (goal
 * ≤ 1.5×) and (c)'s rows/s ÷ (b)'s rows/s, both with the writer on (goal ≥ 0.8×). On PostgreSQL also
 * (b') one raw UPDATE that writes the backup as a batch does, in the same statement: the ceiling of a
 * backfill with backup on one core, printed as its rows/s ÷ (b)'s and (c)'s ÷ its (BENCH_ONLINE_CEILING=off
 * leaves it out). BENCH_ONLINE_VARIANTS
 * adds comparisons (`before`: 200 ms batches, no store throttle — upshift before issue 20; `uncapped`: no
 * cap of the store's batches in flight (the default before the adaptive cap); `in-flight-<n>`: a fixed cap; `no-backup`;
 * `target-<ms>`; `mongo-cmd-<n>`: n writes per MongoDB command). Sizes: BENCH_ONLINE_ROWS (default 1,000,000), BENCH_ONLINE_DOCS (MongoDB, default
 * 20,000), BENCH_ONLINE_BASELINE_SECONDS (default 10), BENCH_ONLINE_STORES (default `postgres,mongodb`).
 * Shards in flight: BENCH_ONLINE_IN_FLIGHT (default 4, migrate-shard's default slots per process).
 * PostgreSQL: the writer runs in a worker thread of its own (BENCH_ONLINE_WRITER=inline: on the bench's
 * event loop, beside the backfill's driver, as before), and each phase ends with where the writer's time
 * went (`online-waits.ts`: its backends' wait events sampled every ~5 ms, each write split into parts).
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { defaultStrategyThrottle, type StrategyThrottle } from '@upshift/events/contract';
import { autoShardCount, defaultBatchSizeLimits, initialCheckpoint, openEngine, openSignalReader, runShard } from '@upshift/migrations';
import type { Migration, MigrationEngine } from '@upshift/migrations';
import { forgetStoreBudget, migrateStore } from '@upshift/runtime';
import { StoreBatchSlots } from '../../functions/migrate-shard/src/adapters/store-batch-slots.ts';
import { StoreBudget } from '../../functions/migrate-shard/src/adapters/store-budget.ts';
import { StoreThrottle } from '../../functions/migrate-shard/src/store-throttle.ts';
import { freshTable, postgresMigration, rawAssignment, timed, withBenchDatabase } from './migrations.ts';
import { benchOnlineMongo } from './online-mongo.ts';
import { newBatchRecord, proportionalSizing, recordingBatches, type BatchRecord } from './online-batches.ts';
import { addRound, printPhases as printVariantPhases, type PhaseRuns } from './online-phases.ts';
import { pooledFigures, startWriter, type StoreWriter, type WriterFigures } from './online-writer.ts';
import { WriterThread } from './online-writer-thread.ts';
import { describeWaits, pooledWaits, startWriterWaitProbe, timedPostgresWriter, writerApplicationName, type PhaseWaits } from './online-waits.ts';

export const onlineRate = Number(process.env.BENCH_ONLINE_RATE ?? 200);
const rows = Number(process.env.BENCH_ONLINE_ROWS ?? 1_000_000);
export const baselineSeconds = Number(process.env.BENCH_ONLINE_BASELINE_SECONDS ?? 10);
export const onlineVariants = (process.env.BENCH_ONLINE_VARIANTS ?? 'upshift,before').split(',').filter(Boolean);
/** Each phase is repeated this often and the writer's latencies pooled: one backfill of a small table lasts seconds, too few writes for a p99. */
export const onlineRounds = Number(process.env.BENCH_ONLINE_ROUNDS ?? 1);
const inFlight = Number(process.env.BENCH_ONLINE_IN_FLIGHT ?? 4);
/** PostgreSQL: also run the ceiling phase (BENCH_ONLINE_CEILING=off leaves it out). */
const onlineCeiling = process.env.BENCH_ONLINE_CEILING !== 'off';
/**
 * The ceiling: one raw UPDATE doing what a batch with backup does (the statement shape of
 * migrations/src/postgres/sql.ts `batchStatement`: the old values read, the rows updated, old and new
 * values inserted into a backup table, in one statement), over the whole table, READ COMMITTED.
 */
const rawUpdateWithBackup = `WITH target AS (SELECT id, amount_minor, currency, schema_version FROM online_raw WHERE schema_version = 1),
changed AS (UPDATE online_raw SET ${rawAssignment} WHERE schema_version = 1 RETURNING id, amount_minor, currency, schema_version),
saved AS (INSERT INTO online_raw_backup (id, amount_minor, currency, schema_version, new_amount_minor, new_currency, new_schema_version)
  SELECT target.id, target.amount_minor, target.currency, target.schema_version, changed.amount_minor, changed.currency, changed.schema_version
    FROM target JOIN changed ON changed.id = target.id)
SELECT count(*)::int AS changed FROM changed`;
let writerRuns = 0;
const print = (line: string) => process.stdout.write(`${line}\n`);

/** How one upshift variant migrates: the store throttle's limits (undefined: none), backup, and the batch-size controller. */
export interface Variant {
  name: string;
  limits: StrategyThrottle | undefined;
  backup: boolean;
  /** `fitted`: the shard loop's controller; `proportional`: the one before it (time ∝ size). */
  sizing: 'fitted' | 'proportional';
  /** MongoDB: writes per command of a backfill batch (undefined: the engine's default). */
  writesPerCommand?: number;
  /** false: no batch slots, so no cap of the store's batches in flight (the default before the adaptive cap). */
  batchSlots?: boolean;
}

/** The variants by name: `upshift` (the default policy), `before`, `uncapped`, `proportional`, `no-backup`, `target-<ms>`, `in-flight-<n>`, `mongo-cmd-<n>`. */
export function variantOf(name: string): Variant {
  const policy = { limits: defaultStrategyThrottle, backup: true, sizing: 'fitted' } as const;
  if (name === 'before') return { name: 'upshift before issue 20 (200 ms batches, no store throttle, proportional sizing)', limits: undefined, backup: true, sizing: 'proportional' };
  if (name === 'proportional') return { ...policy, name: 'upshift default policy, batch size ∝ time (before the fitted controller)', sizing: 'proportional' };
  if (name === 'uncapped') return { ...policy, name: 'upshift default policy without a cap of the store\'s batches in flight (the default before the adaptive cap)', batchSlots: false };
  if (name === 'no-backup') return { ...policy, name: 'upshift default policy, backup off', backup: false };
  const target = /^target-(\d+)$/.exec(name)?.[1];
  if (target) return { ...policy, name: `upshift, ${target} ms batches`, limits: { ...defaultStrategyThrottle, targetBatchMs: Number(target) } };
  const inFlight = /^in-flight-(\d+)$/.exec(name)?.[1];
  if (inFlight) return { ...policy, name: `upshift, at most ${inFlight} batch(es) of the store at once`, limits: { ...defaultStrategyThrottle, storeBatchesInFlight: Number(inFlight) } };
  const perCommand = /^mongo-cmd-(\d+)$/.exec(name)?.[1];
  if (perCommand) return { ...policy, name: `upshift, ${perCommand} writes per MongoDB command`, writesPerCommand: Number(perCommand) };
  return { ...policy, name: 'upshift default policy (store throttle on, backup on)' };
}

/**
 * Runs the migration of `migration` the way migrate-shard does (auto shards, `inFlight` at once, each
 * shard's batches through its own store throttle sharing the store's budget in the control store);
 * returns the rows changed and how often the throttle was not clear.
 */
export async function upshiftBackfill(engine: MigrationEngine, migration: Migration, env: Record<string, string>, variant: Variant, controlUrl: string): Promise<BackfillResult> {
  const control = new pg.Pool({ connectionString: controlUrl, max: inFlight + 1 });
  const reader = openSignalReader(migration, env);
  const budgetKey = `${reader.storeKey}#bench${process.pid}`;
  const budget = new StoreBudget(control, budgetKey);
  const slots = new StoreBatchSlots(control, budgetKey);
  const states = new Map<string, number>();
  const batches = newBatchRecord();
  let changed = 0;
  let retried = 0;
  try {
    await engine.expand();
    const ranges = await engine.splitShards(autoShardCount(await engine.estimateCount()));
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let range = ranges[next++]; range; range = ranges[next++]) {
        const limits = variant.limits;
        const throttle = limits && new StoreThrottle({
          reader, budget, slots: variant.batchSlots === false ? undefined : slots, limits, signal: new AbortController().signal, until: Number.POSITIVE_INFINITY,
          onChange: (state) => {
            const key = `${state.state}${state.reason ? ` (${state.reason.replace(/\d+(\.\d+)?/g, 'n')})` : ''}`;
            states.set(key, (states.get(key) ?? 0) + 1);
            const cap = state.batchesInFlight?.cap;
            if (cap !== undefined) states.set(`in flight ≤ ${cap}`, (states.get(`in flight ≤ ${cap}`) ?? 0) + 1);
          },
        });
        const batchLimits = { ...defaultBatchSizeLimits, targetMs: limits?.targetBatchMs ?? defaultBatchSizeLimits.targetMs };
        const recorded = recordingBatches(engine, batches);
        const throttled = throttle ? throttle.wrap(recorded) : recorded;
        const final = await runShard({
          engine: variant.sizing === 'proportional' ? proportionalSizing(throttled, batchLimits, 1000) : throttled,
          shard: { range, backup: variant.backup }, checkpoint: initialCheckpoint(1000), limits: batchLimits, onBatch: async () => undefined,
        });
        changed += final.changed;
        retried += final.throttles;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  } finally {
    await forgetStoreBudget(control, budgetKey).catch(() => undefined);
    await reader.close();
    await control.end();
  }
  return { changed, retried, states, batches };
}

/** What one upshift backfill did. */
export interface BackfillResult {
  changed: number;
  retried: number;
  states: Map<string, number>;
  batches: BatchRecord;
}

/** Runs `work` with the writer on; returns how long the work took and what the writer felt. */
export async function withWriter(store: StoreWriter, existing: number, work: () => Promise<unknown>): Promise<{ ms: number; writer: WriterFigures }> {
  writerRuns += 1; // each run inserts keys of its own: a table written twice never sees a duplicate
  const writer = startWriter(store, { perSecond: onlineRate, existing, firstNewKey: existing + writerRuns * 1_000_000 });
  const ms = await timed(work);
  return { ms, writer: await writer.stop() };
}

/** The writer alone for `baselineSeconds`. */
export async function writerAlone(store: StoreWriter, existing: number): Promise<WriterFigures> {
  return (await withWriter(store, existing, () => new Promise((resolve) => setTimeout(resolve, baselineSeconds * 1000)))).writer;
}

/** Prints the pooled figures of one store's phases, the variants of BENCH_ONLINE_VARIANTS in order. */
export function printPhases(phases: Map<string, PhaseRuns>, rawName: string, ceilingName?: string): void {
  printVariantPhases(phases, onlineVariants.map((key) => ({ key, variant: variantOf(key) })), rawName, ceilingName);
}

/**
 * A checkpoint before a measured phase: the WAL of the table's fresh copy (and of the raw UPDATE before
 * the first variant) is flushed now, not during the phase (a phase right after the raw UPDATE used to
 * pay a forced checkpoint the others did not: the writer's p99 doubled in whichever variant ran first).
 */
async function settleStore(client: pg.Client): Promise<void> {
  await client.query('CHECKPOINT');
}

/** Where the PostgreSQL writer runs: `thread` (default; a worker thread of its own) or `inline` (the bench's event loop, as before). */
const writerMode = process.env.BENCH_ONLINE_WRITER ?? 'thread';

/** The PostgreSQL writer of every phase: its pool, and its thread when it has one. */
interface PostgresWriter {
  pool: pg.Pool;
  thread: WriterThread | undefined;
  url: URL;
}

/** Runs one PostgreSQL phase's `work` with the writer on `table` and the writer's waits sampled into `waits`. */
async function probedPhase(writer: PostgresWriter, table: string, waits: Map<string, PhaseWaits[]>, name: string, work: () => Promise<unknown>): Promise<{ ms: number; writer: WriterFigures }> {
  const probe = await startWriterWaitProbe(writer.url.toString());
  try {
    if (!writer.thread) return await withWriter(timedPostgresWriter(writer.pool, table, probe.writes), rows, work);
    writerRuns += 1;
    await writer.thread.start({ table, perSecond: onlineRate, existing: rows, firstNewKey: rows + writerRuns * 1_000_000 });
    const ms = await timed(work);
    const { figures, writes } = await writer.thread.stop();
    probe.writes.push(...writes);
    return { ms, writer: figures };
  } finally {
    waits.set(name, [...(waits.get(name) ?? []), await probe.stop()]);
  }
}

/** One round of every PostgreSQL phase, each on a fresh copy of the table. */
async function postgresRound(client: pg.Client, writer: PostgresWriter, controlUrl: string, phases: Map<string, PhaseRuns>, waits: Map<string, PhaseWaits[]>): Promise<void> {
  await freshTable(client, 'online_raw');
  await settleStore(client);
  addRound(phases, 'alone', { ms: 0, writer: (await probedPhase(writer, 'online_raw', waits, 'alone', () => new Promise((resolve) => setTimeout(resolve, baselineSeconds * 1000)))).writer });
  let changed = 0;
  const raw = await probedPhase(writer, 'online_raw', waits, 'raw', async () => {
    changed = (await client.query(`UPDATE online_raw SET ${rawAssignment} WHERE schema_version = 1`)).rowCount ?? 0;
  });
  addRound(phases, 'raw', { ...raw, changed });
  if (onlineCeiling) {
    await freshTable(client, 'online_raw');
    await client.query('DROP TABLE IF EXISTS online_raw_backup');
    await client.query(`CREATE TABLE online_raw_backup (id bigint PRIMARY KEY, amount_minor bigint, currency text, schema_version integer,
      new_amount_minor bigint, new_currency text, new_schema_version integer)`);
    await settleStore(client);
    const ceiling = await probedPhase(writer, 'online_raw', waits, 'raw-backup', async () => {
      changed = (await client.query<{ changed: number }>(rawUpdateWithBackup)).rows[0]?.changed ?? 0;
    });
    addRound(phases, 'raw-backup', { ...ceiling, changed });
    await client.query('DROP TABLE online_raw_backup');
  }
  await client.query('DROP TABLE online_raw');
  for (const name of onlineVariants) {
    const variant = variantOf(name);
    const table = `online_${name.replaceAll('-', '_')}`;
    await freshTable(client, table);
    await settleStore(client);
    const migration = postgresMigration(table);
    const env = { BENCH_DATABASE_URL: writer.url.toString() };
    const engine = openEngine(migration, env, { poolSize: inFlight + 1 });
    let result: BackfillResult = { changed: 0, retried: 0, states: new Map<string, number>(), batches: newBatchRecord() };
    const during = await probedPhase(writer, table, waits, name, async () => { result = await upshiftBackfill(engine, migration, env, variant, controlUrl); });
    await engine.dropBackups();
    await engine.close();
    await client.query(`DROP TABLE ${table}`);
    addRound(phases, name, { ...during, ...result });
  }
}

/** Where the writer's time went in each phase (the slow writes: over the alone phase's p99). */
function printWaits(waits: Map<string, PhaseWaits[]>, aloneP99: number): void {
  for (const [name, rounds] of waits) {
    print(`  ${name} — ${describeWaits(pooledWaits(rounds), aloneP99, cpus().length).join('\n      ')}`);
  }
}

async function benchOnlinePostgres(adminUrl: string, controlUrl: string): Promise<void> {
  await withBenchDatabase(adminUrl, 'online', async (url, client) => {
    await client.query(`CREATE TABLE bench_base AS
      SELECT g::bigint AS id, (g % 50000)::bigint AS customer_id, ((g * 7919) % 100000) / 100.0 AS amount,
             'order ' || g || ' ' || repeat(md5(g::text), 3) AS note, timestamptz '2026-01-01' + g * interval '1 second' AS created_at,
             jsonb_build_object('sku', g % 997, 'qty', g % 7) AS line, 1 AS schema_version, NULL::bigint AS amount_minor, NULL::text AS currency
        FROM generate_series(1::bigint, $1::bigint) g`, [rows]);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 32, application_name: writerApplicationName });
    // Connections made before any write is timed: the writer measures the store, not connection set-up.
    const thread = writerMode === 'thread' ? await WriterThread.open(url.toString()) : undefined;
    try {
      if (!thread) await Promise.all(Array.from({ length: 32 }, () => pool.query('SELECT 1')));
      const phases = new Map<string, PhaseRuns>();
      const waits = new Map<string, PhaseWaits[]>();
      for (let round = 0; round < onlineRounds; round += 1) await postgresRound(client, { pool, url, thread }, controlUrl, phases, waits);
      print(`PostgreSQL, ${rows} rows, writer ${onlineRate}/s (80 % updates, 20 % inserts; ${writerMode === 'thread' ? 'in a thread of its own' : 'on the bench\'s event loop'}), ${autoShardCount(rows)} shards, ${inFlight} in flight, ${onlineRounds} round(s) pooled:`);
      printPhases(phases, 'one raw UPDATE', 'one raw UPDATE with backup');
      print('  where the writer\'s time went (pg_stat_activity of its backends every ~5 ms; per write: its event loop, the pool, /proc schedstat of its backend, the reply):');
      printWaits(waits, pooledFigures(phases.get('alone')?.writers ?? []).p99);
    } finally {
      await thread?.close();
      await pool.end();
    }
  });
}

/**
 * A control store of the bench's own (a fresh database at the current schema) for the shared budget:
 * the stack's `upshift` database belongs to whoever runs the functions, and may be at any version.
 */
async function withControlStore(adminUrl: string, work: (controlUrl: string) => Promise<void>): Promise<void> {
  await withBenchDatabase(adminUrl, 'control', async (url) => {
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      await migrateStore(pool);
    } finally {
      await pool.end();
    }
    await work(url.toString());
  });
}

/** Runs the online benchmark against the stack (POSTGRES_ADMIN_URL; MONGODB_URL for the MongoDB half). */
export async function benchOnline(): Promise<void> {
  const stores = (process.env.BENCH_ONLINE_STORES ?? 'postgres,mongodb').split(',');
  const adminUrl = process.env.POSTGRES_ADMIN_URL;
  if (!adminUrl) throw new Error('bench online: POSTGRES_ADMIN_URL must be set (eval "$(node stack/src/cli.ts env)")');
  await withControlStore(adminUrl, async (controlUrl) => {
    if (stores.includes('postgres')) await benchOnlinePostgres(adminUrl, controlUrl);
    if (!stores.includes('mongodb')) return;
    if (process.env.MONGODB_URL) await benchOnlineMongo(process.env.MONGODB_URL, controlUrl);
    else print('MongoDB: skipped (MONGODB_URL is not set)');
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchOnline().then(() => process.exit(0), (error: unknown) => {
    process.stderr.write(`bench online: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
