/**
 * Data work against instances (issue 18): one migration of `BENCH_INSTANCES_ROWS` rows (2,000,000 by
 * default) in 16 shards, run end to end with 1, 2 and 4 migrate-shard instances (`upshift dev --scale`,
 * each instance one shard at a time, as a pod of containerConcurrency 1). Prints rows/s from the first
 * `shard.requested` to the last `shard.completed`, efficiency against 1 instance (rows/s ÷ (n × rows/s of
 * one)), and where the time goes: CPU of the run's PostgreSQL backends (from /proc of the pids
 * pg_stat_activity names) and of the migrate-shard processes (from /proc), as shares of the wall time
 * and of the machine's cores, plus what the backends were doing (pg_stat_activity samples: on CPU,
 * waiting for the function (ClientRead), on I/O, on locks). The plateau is where one of them fills the
 * machine. Sizes: BENCH_INSTANCES_ROWS, BENCH_INSTANCES_COUNTS ("1,2,4"), BENCH_INSTANCES_BATCH (1000).
 */
import { cpus } from 'node:os';
import { isEventOf, type AnyUpshiftEvent } from '@upshift/events';
import pg from 'pg';
import { startShardTest, type ShardTest } from '../../functions/migrate-shard/test/support.ts';
import { requestOrdersRun, runEnds } from '../../test/faults/shard-run.ts';
import { privateKubeconfig } from '../../test/support/kube.ts';
import { sampleBackends, type BackendSamples } from './instances-cpu.ts';
import { cpuBetween, cpuByPid, cpuSecondsOf, machineTicks } from './proc-stat.ts';

const rows = Number(process.env.BENCH_INSTANCES_ROWS ?? 2_000_000);
const counts = (process.env.BENCH_INSTANCES_COUNTS ?? '1,2,4').split(',').map(Number);
const batchSize = Number(process.env.BENCH_INSTANCES_BATCH ?? 1000);
const shards = 16;

/** What one count of instances measured. */
interface Measured {
  instances: number;
  seconds: number;
  rowsPerSecond: number;
  backends: BackendSamples;
  functionCpuSeconds: number;
  postgresCpuSeconds: number;
  /** Share of the machine's CPU busy (anything on it) over the run. */
  machineBusy: number;
}

/** Seeds `orders` (the example catalog's shape, schema_version 1) with `count` rows; bigint keys all the way, for millions. */
async function seedOrders(shop: pg.Client, count: number): Promise<void> {
  await shop.query(`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2), note text, schema_version integer NOT NULL DEFAULT 1)`);
  await shop.query(`INSERT INTO orders SELECT g, g % 500, CASE WHEN g % 97 = 0 THEN NULL ELSE ((g * 7919) % 100000) / 100.0 END, 'order ' || g, 1
    FROM generate_series(1, $1::bigint) g`, [count]);
  await shop.query('ANALYZE orders');
}

/** The time of the first event of `type` (first) or the last (last) of a run, in ms. */
function timeOf(events: AnyUpshiftEvent[], runId: string, type: string, pick: 'first' | 'last'): number {
  const times = events.filter((e) => e.type === type && (e.data as { runId?: string }).runId === runId).map((e) => Date.parse(e.time ?? '')).sort((a, b) => a - b);
  const time = pick === 'first' ? times[0] : times.at(-1);
  if (time === undefined) throw new Error(`no ${type} of run ${runId}`);
  return time;
}

/** Runs the migration with `instances` migrate-shard processes and measures it. */
async function measure(instances: number): Promise<Measured> {
  const t: ShardTest = await startShardTest({
    functions: ['plan', 'rollout', 'migrate-shard', 'verify'], mode: 'process',
    extraEnv: { UPSHIFT_DEV_SCALE: `migrate-shard=${instances}`, UPSHIFT_SHARD_LEASE_TTL_MS: '15000' },
  });
  const admin = new pg.Client({ connectionString: t.harness.env['POSTGRES_ADMIN_URL'] });
  await admin.connect();
  try {
    await seedOrders(t.shop, rows);
    const databases = [new URL(t.harness.databaseUrl).pathname.slice(1), new URL(t.shopUrl).pathname.slice(1)];
    const workers = t.harness.dev.functions.filter((fn) => fn.name === 'migrate-shard').map((fn) => fn.child?.pid ?? 0);
    const run = await requestOrdersRun(t, shards, batchSize);
    try {
      // The window: from the first shard.requested to the last shard.completed; CPU is read at both ends.
      await t.waitForCount(t.work, 'shard.requested', run.runId, 1, 10 * 60_000);
      const before = { workers: cpuSecondsOf(workers), postgres: cpuByPid('postgres'), machine: machineTicks() };
      const sampling = new AbortController();
      const backends = sampleBackends(admin, databases, sampling.signal);
      await t.waitForCount(t.verify, 'shard.completed', run.runId, shards, 30 * 60_000).finally(() => sampling.abort());
      const machine = machineTicks();
      const window = {
        machineBusy: (machine.busy - before.machine.busy) / Math.max(1, machine.total - before.machine.total),
        functionCpuSeconds: cpuSecondsOf(workers) - before.workers,
        postgresCpuSeconds: cpuBetween(before.postgres, cpuByPid('postgres')),
        backends: await backends,
      };
      const end = await t.harness.waitFor(run.runId, [...runEnds], 30 * 60_000);
      if (!isEventOf(end, 'upgrade.completed')) throw new Error(`the run ended ${end.type}: ${JSON.stringify(end.data)}`);
      const started = timeOf(t.work.events(), run.runId, 'dev.upshift.shard.requested.v1', 'first');
      const finished = timeOf(t.verify.events(), run.runId, 'dev.upshift.shard.completed.v1', 'last');
      const seconds = (finished - started) / 1000;
      return { instances, seconds, rowsPerSecond: rows / seconds, ...window };
    } finally {
      await run.remove();
    }
  } finally {
    await admin.end();
    await t.stop();
  }
}

const cores = cpus().length;
const pct = (value: number) => `${(value * 100).toFixed(0)}%`;

/** One line of the table, printed as soon as its count is measured. */
function printRow(r: Measured, base: Measured | undefined): void {
  const speedup = base ? r.rowsPerSecond / base.rowsPerSecond : 1;
  const coresOf = (cpuSeconds: number) => (cpuSeconds / r.seconds).toFixed(2);
  const b = r.backends;
  process.stdout.write(`  ${String(r.instances).padStart(9)}  ${r.rowsPerSecond.toFixed(0).padStart(7)}  ${speedup.toFixed(2).padStart(5)}×  ${pct(speedup / r.instances).padStart(10)}  ${r.seconds.toFixed(1).padStart(6)} s`
    + `  ${coresOf(b.cpuSeconds).padStart(8)} / ${coresOf(r.postgresCpuSeconds).padEnd(6)}  ${coresOf(r.functionCpuSeconds).padStart(9)}  ${(r.machineBusy * cores).toFixed(2).padStart(9)}`
    + `       ${pct(b.share('cpu')).padStart(4)} ${pct(b.share('client')).padStart(10)} ${pct(b.share('io')).padStart(4)} ${pct(b.share('lock')).padStart(4)}\n`);
}

/**
 * Where the plateau comes from, at the largest count: the machine (busy with everything on it), and
 * within the run's own CPU the PostgreSQL backends against the migrate-shard processes; the backends'
 * samples say whether they work (on CPU) or wait for the function to send the next statement (ClientRead).
 */
function printVerdict(last: Measured): void {
  const pgCores = last.backends.cpuSeconds / last.seconds;
  const fnCores = last.functionCpuSeconds / last.seconds;
  const pgShare = pgCores / Math.max(1e-9, pgCores + fnCores);
  const busyCores = last.machineBusy * cores;
  process.stdout.write(`  at ${last.instances} instances: of the run's CPU ${pct(pgShare)} is PostgreSQL backends (${pgCores.toFixed(2)} cores), ${pct(1 - pgShare)} migrate-shard processes (${fnCores.toFixed(2)} cores); `
    + `the machine was ${pct(last.machineBusy)} busy (${busyCores.toFixed(2)} of ${cores} cores, ${Math.max(0, busyCores - pgCores - fnCores).toFixed(2)} of them Kafka, the dispatcher and other load)\n`);
  const saturated = last.machineBusy >= 0.9;
  const bound = saturated
    ? `the machine's ${cores} cores (saturated): the run gets what the other processes leave, and within it ${pgShare >= 0.5 ? 'PostgreSQL' : 'the functions'} take${pgShare >= 0.5 ? 's' : ''} the larger share`
    : last.backends.share('cpu') >= last.backends.share('client') ? 'PostgreSQL CPU (backends mostly on CPU)' : "the functions' side (backends mostly waiting for the next statement: ClientRead)";
  process.stdout.write(`  plateau: ${bound}. With the database on its own cores the functions would need ${(fnCores / Math.max(1, last.instances)).toFixed(2)} cores per instance `
    + `at ${(last.rowsPerSecond / last.instances).toFixed(0)} rows/s each; PostgreSQL ${(pgCores / last.rowsPerSecond * 1e6).toFixed(0)} µs of CPU per row.\n`);
}

/** Runs the benchmark once and prints its figures. */
export async function benchInstances(): Promise<void> {
  const kubeconfig = privateKubeconfig();
  try {
    const results: Measured[] = [];
    process.stdout.write(`data work against instances: ${rows} rows in ${shards} shards, batch ${batchSize}, ${cores} cores shared with PostgreSQL, Kafka and the rest\n`);
    process.stdout.write('  instances   rows/s   vs 1   efficiency   window   PG cores (run / all)  fn cores  machine busy  backends: CPU  ClientRead   IO Lock\n');
    for (const count of counts) {
      const measured = await measure(count);
      results.push(measured);
      printRow(measured, results.find((r) => r.instances === 1) ?? results[0]);
    }
    const last = results.at(-1);
    if (last) printVerdict(last);
  } finally {
    kubeconfig.remove();
  }
}

if (import.meta.main) await benchInstances();
