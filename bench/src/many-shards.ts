/**
 * Many shards in one run (issue 18): a run whose migrations have thousands of shards of two rows each,
 * on the real stack, so nearly all the time is per-shard orchestration (fan-out, a shard hop, its
 * checkpoint and progress, verify's fan-in). For each size it prints publish → upgrade.completed, the
 * migrate stage per shard, and how long `upshift status <run>` takes on the finished run; the per-shard
 * cost of the largest size is printed as a ratio to the smallest's, measured in the same run (aim:
 * within 1.5×: nothing per shard reads every shard). Sizes: BENCH_MANY_SHARDS (default `1000,10000`);
 * BENCH_MANY_SHARDS_CONCURRENCY shards at once (default 8). Each size is one migration on one table (up
 * to 100,000 shards); past 4,096 shards the run announces it with the v2 events (`upgrade.planned.v2`,
 * `migration.requested.v2`), and the `events` column says which version the run emitted.
 */
import { entryFor, isEventOf, type EventName } from '@upshift/events';
import { runStatus } from '../../cli/src/status.ts';
import { freshNamespace, privateKubeconfig } from '../../test/support/kube.ts';
import { publishManyShardsRun, shardsByMigration, startManyShards, upshiftStatus } from '../../test/support/many-shards.ts';

const sizes = (process.env.BENCH_MANY_SHARDS ?? '1000,10000').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const concurrency = Number(process.env.BENCH_MANY_SHARDS_CONCURRENCY ?? 8);

/** `upshift status <run>` inside this process (no Node start-up): its time and the lines it printed. */
async function statusInProcess(runId: string, databaseUrl: string): Promise<{ ms: number; lines: number }> {
  const write = process.stdout.write.bind(process.stdout);
  let lines = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines += String(chunk).split('\n').length - 1;
    return true;
  }) as typeof process.stdout.write;
  const started = performance.now();
  try {
    await runStatus([runId, '--database-url', databaseUrl]);
  } finally {
    process.stdout.write = write;
  }
  return { ms: performance.now() - started, lines };
}

interface SizeFigures {
  readonly shards: number;
  readonly migrations: number;
  /** The version of the run's `upgrade.planned` (`v1`, or `v2` past 4,096 shards in a migration). */
  readonly events: string;
  readonly totalMs: number;
  readonly migrateMs: number;
  readonly statusMs: number;
  readonly statusLines: number;
  readonly statusProcessMs: number;
}

/** One run of `shards` shards (two rows each) on a fresh stack harness. */
async function measure(shards: number): Promise<SizeFigures> {
  const split = shardsByMigration(shards);
  const run = await startManyShards(split.length, concurrency);
  const { t } = run;
  const ns = await freshNamespace('many');
  try {
    const { runId, started } = await publishManyShardsRun(run, ns.name, split);
    const end = await t.harness.waitFor(runId, ['upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back', 'upgrade.rejected'], 120_000 + 500 * shards);
    const totalMs = Date.now() - started;
    if (!isEventOf(end, 'upgrade.completed')) throw new Error(`the run ended ${end.type}: ${JSON.stringify(end.data).slice(0, 2000)}`);
    const migrated = end.data.migrations.reduce((sum, m) => sum + m.shards, 0);
    if (migrated !== shards) throw new Error(`upgrade.completed counts ${migrated} shards, expected ${shards}`);
    const at = (name: EventName) => Date.parse(t.harness.eventsOf(runId).filter((e) => e.type === entryFor(name).type).map((e) => e.time).sort().pop() ?? '') - started;
    const migrateMs = at('verify.results') - at('rollout.wave.completed');
    const events = t.harness.eventsOf(runId).find((e) => isEventOf(e, 'upgrade.planned'))?.type.replace(/^.*\./, '') ?? '?';
    const status = await statusInProcess(runId, t.harness.databaseUrl);
    const statusProcess = await upshiftStatus([runId], t.harness.databaseUrl);
    return { shards, migrations: split.length, events, totalMs, migrateMs, statusMs: status.ms, statusLines: status.lines, statusProcessMs: statusProcess.ms };
  } finally {
    await ns.remove();
    await run.stop();
  }
}

/** Runs the benchmark at every size and prints the figures with the per-shard ratio. */
export async function benchManyShards(): Promise<void> {
  const kubeconfig = privateKubeconfig();
  const figures: SizeFigures[] = [];
  try {
    for (const shards of sizes) figures.push(await measure(shards));
  } finally {
    kubeconfig.remove();
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  process.stdout.write(`many shards: shards of 2 rows, ${concurrency} shards at a time, 1 workload already at target in 2 clusters (PostgreSQL as started by the stack)\n`);
  process.stdout.write(`  shards  migrations  events  publish→completed  migrate stage  per shard   upshift status (in process; as a command, Node start-up included)\n`);
  for (const f of figures) {
    process.stdout.write(`  ${String(f.shards).padStart(6)}  ${String(f.migrations).padStart(10)}  ${f.events.padStart(6)}  ${s(f.totalMs).padStart(17)}  ${s(f.migrateMs).padStart(13)}  ${`${(f.migrateMs / f.shards).toFixed(2)} ms`.padStart(9)}   ${s(f.statusMs)} (${f.statusLines} lines; ${s(f.statusProcessMs)})\n`);
  }
  const small = figures[0];
  const large = figures.at(-1);
  if (small && large && large !== small) {
    const ratio = (large.migrateMs / large.shards) / (small.migrateMs / small.shards);
    process.stdout.write(`  per-shard cost ${large.shards} vs ${small.shards}: ${ratio.toFixed(2)}× (aim ≤ 1.5×) → ${ratio <= 1.5 ? 'met' : 'missed'}\n`);
  }
  if (large) {
    process.stdout.write(`  ${large.shards} shards publish → upgrade.completed: ${s(large.totalMs)} (aim < 60 s) → ${large.totalMs < 60_000 ? 'met' : 'missed'}\n`);
    process.stdout.write(`  upshift status of the ${large.shards}-shard run: ${s(large.statusMs)} in process (aim < 1 s) → ${large.statusMs < 1000 ? 'met' : 'missed'}; ${s(large.statusProcessMs)} as a command\n`);
  }
}

if (import.meta.main) await benchManyShards();
