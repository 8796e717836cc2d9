/**
 * Hop benchmark: latency from publish to handler start through Kafka, the dispatcher, HTTP and the
 * inbox transaction (p50/p99 over 1,000 events), and no-op handler throughput with inbox/outbox on —
 * each printed next to a bare kafkajs produce→consume measured in the same run, as a ratio.
 * Runs standalone (`node bench/src/hop.ts`, stack env from `node stack/src/cli.ts env`) or via benchHop().
 * This module is also the benchmarked function (a no-op `rollout` that records its start time).
 * `UPSHIFT_DEV_DELIVERY_ORDER=partition` measures the dispatcher delivering one record at a time per
 * partition instead of by key. The function runs in a process of its own, as `upshift dev` starts it
 * (like its Knative pod): the bare-kafkajs baseline and the dispatcher stay in this process, and the
 * function reports each handler start over a loopback socket. `BENCH_HOP_FUNCTION=inline` runs it in this
 * process instead (one event loop for everything). The CPU time per burst event of each process is
 * printed. `BENCH_HOP_FUNCTION_NODE_OPTIONS` goes to the function's process only (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof`); `BENCH_HOP_CONCURRENCY` sets the deliveries in flight (default the
 * function's, as `upshift dev` sends them).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createEvent, encodeKafka } from '@upshift/events';
import type { AnyUpshiftEvent } from '@upshift/events';
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import { countPublished, createKafka, defineFunction, deletePrefixedTopics, ensureCatalogueTopics } from '@upshift/runtime';
import { runDev } from '@upshift/runtime/dev';

const events = Number(process.env['BENCH_HOP_EVENTS'] ?? 1000);
const progress = (msg: string): void => { if (process.env['BENCH_DEBUG']) process.stderr.write(`${new Date().toISOString()} ${msg}\n`); };
const now = (): number => performance.timeOrigin + performance.now();
/** Where the function runs: its own process (default, the production shape) or this one. */
const functionMode = process.env['BENCH_HOP_FUNCTION'] === 'inline' ? 'inline' : 'process';
/** Deliveries in flight to the function (default: its dev concurrency, as `upshift dev` sends them). */
const concurrency = Number(process.env['BENCH_HOP_CONCURRENCY'] ?? 0);
/** Set in the function's process: the port of the bench's socket that collects handler starts. */
const reportPort = process.env['BENCH_HOP_REPORT_PORT'];

/** Arrival times by key; `wait(key)` resolves on arrival (closed-loop mode). */
class Arrivals {
  readonly at = new Map<string, number>();
  #waiters = new Map<string, () => void>();
  record(key: string, at = now()): void {
    this.at.set(key, at);
    this.#waiters.get(key)?.();
    this.#waiters.delete(key);
  }
  wait(key: string): Promise<void> {
    if (this.at.has(key)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.set(key, resolve));
  }
}
const handlerStarts = new Arrivals();

/**
 * In the function's process: sends `<event id> <start time>` lines to the bench (one clock: both
 * processes read the machine's wall clock through performance.timeOrigin).
 */
let reporter: Socket | undefined;
function reportStart(id: string): void {
  if (reportPort === undefined) return handlerStarts.record(id);
  reporter ??= connect(Number(reportPort), '127.0.0.1').setNoDelay(true).on('error', () => undefined); // the bench has gone
  reporter.write(`${id} ${now()}\n`);
}

/** In the bench: collects the start times the function's process reports. */
async function collectStarts(): Promise<Server> {
  const server = createServer((socket) => {
    let pending = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [id, at] = line.split(' ');
        if (id && at) handlerStarts.record(id, Number(at));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.unref();
}

/** Deliveries that needed more than one attempt, and answers of 429 on the way (a hop should need neither). */
const redeliveries = { retried: 0, throttled: 0, failed: 0 };

/**
 * The benchmarked function: no domain work. It notes when it started (inside the inbox transaction);
 * for the throughput burst it also emits one event, so the outbox and the relay are on the path.
 */
const noop = defineFunction({
  name: 'rollout',
  async handle(ctx, event) {
    reportStart(event.id);
    if (event.type !== 'dev.upshift.migration.expand.done.v1' || !event.data.runId.startsWith('bench-t')) return;
    const runId = event.data.runId;
    await ctx.decide(async (d) => void d.emit('run.progress', {
      runId, stage: 'rollout', percent: 0, wavesDone: 0, wavesTotal: 1, shardsDone: 0, shardsTotal: 0, rowsMigrated: 0,
    }));
  },
});
export default noop;

function stackEnv(): Record<string, string> {
  if (process.env['POSTGRES_ADMIN_URL'] && process.env['KAFKA_BROKERS']) return process.env as Record<string, string>;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const text = execFileSync(process.execPath, ['stack/src/cli.ts', 'env'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/^export (\w+)='([^']*)'$/gm)) env[match[1]!] = match[2]!;
  return { ...env, ...(process.env as Record<string, string>) };
}

/**
 * Latency is measured on independent events: one is published every `spacingMs` (well above the
 * per-event cost), so no event queues behind the previous one's processing. BENCH_HOP_SPACING_MS=0
 * switches to a closed loop: the next event is published as soon as the previous one arrived.
 */
const spacingMs = Number(process.env['BENCH_HOP_SPACING_MS'] ?? 10);

async function pace(sentAt: number, key: string, arrivals: Arrivals): Promise<void> {
  if (spacingMs === 0) return arrivals.wait(key);
  const wait = sentAt + spacingMs - now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Figures {
  readonly p50: number;
  readonly p99: number;
  readonly perSecond: number;
  /**
   * CPU time per burst event (ms): of this process, of the function's process when it has its own, and of
   * the PostgreSQL backends serving the function (its pool and relay listener; Linux /proc, else undefined).
   */
  readonly cpuPerEvent?: { readonly bench: number; readonly fn: number | undefined; readonly postgres: number | undefined };
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux; undefined elsewhere). */
function processCpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in clock ticks of 10 ms (USER_HZ)
  } catch {
    return undefined;
  }
}

/** CPU time of each of `pids` (those /proc shows). */
function cpuOf(pids: readonly number[]): Map<number, number> {
  return new Map(pids.flatMap((pid) => { const ms = processCpuMs(pid); return ms === undefined ? [] : [[pid, ms] as const]; }));
}

/** The backends of the bench database other than `store`'s own: the function's pool and relay listener. */
async function backendPids(store: pg.Client): Promise<number[]> {
  const { rows } = await store.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return rows.map((row) => row.pid);
}

/**
 * Starts counting CPU time of this process, of `fnPid` and of the function's backends (a backend opened
 * meanwhile counts from its start); the returned function gives ms per event since.
 */
async function cpuMeter(fnPid: number | undefined, store: pg.Client): Promise<(count: number) => Promise<NonNullable<Figures['cpuPerEvent']>>> {
  const bench = process.cpuUsage();
  const fn = fnPid === undefined ? undefined : processCpuMs(fnPid);
  const backends = cpuOf(await backendPids(store));
  return async (count) => {
    const used = process.cpuUsage(bench);
    const fnNow = fnPid === undefined ? undefined : processCpuMs(fnPid);
    const backendsNow = cpuOf(await backendPids(store));
    const postgres = backendsNow.size === 0 ? undefined : [...backendsNow].reduce((sum, [pid, ms]) => sum + ms - (backends.get(pid) ?? 0), 0) / count;
    return { bench: (used.user + used.system) / 1000 / count, fn: fn === undefined || fnNow === undefined ? undefined : (fnNow - fn) / count, postgres };
  };
}

async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Bare kafkajs: sequential produce (acks all) → consume, then a 1,000-message burst. */
async function bareKafka(kafka: Kafka, topic: string): Promise<Figures> {
  const received = new Arrivals();
  const consumer = kafka.consumer({ groupId: `${topic}-bare`, maxWaitTimeInMs: 100 });
  const producer = kafka.producer();
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => { received.record(message.key!.toString()); } });
  const sentAt = new Map<string, number>();
  for (let i = 0; i < events; i++) {
    const key = `l${i}`;
    sentAt.set(key, now());
    await producer.send({ topic, acks: -1, messages: [{ key, value: '{}' }] });
    await pace(sentAt.get(key)!, key, received);
  }
  progress('bare sent');
  await waitUntil(() => received.at.size >= events);
  const latencies = [...sentAt].map(([key, at]) => received.at.get(key)! - at).sort((a, b) => a - b);
  const start = now();
  await producer.send({ topic, acks: -1, messages: Array.from({ length: events }, (_, i) => ({ key: `t${i}`, value: '{}' })) });
  await waitUntil(() => received.at.size >= 2 * events);
  const perSecond = events / ((now() - start) / 1000);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond };
}

function hopEvent(i: number, tag: string): AnyUpshiftEvent {
  return createEvent('migration.expand.done', { runId: `bench-${tag}${i}`, migrations: ['bench-noop@1'] }, { producer: 'migrate-shard' }) as AnyUpshiftEvent;
}

function toRecord(event: AnyUpshiftEvent): { key: string; value: string; headers: Record<string, string> } {
  const record = encodeKafka(event);
  return { key: record.key, value: record.value, headers: { ...record.headers } };
}

/**
 * Through upshift: publish → Kafka → dispatcher → HTTP → host → inbox transaction → handler (latency),
 * and a burst until every output is published by the relay (throughput).
 */
async function upshiftHop(kafka: Kafka, topic: string, store: pg.Client, fnPid: number | undefined): Promise<Figures> {
  const producer = kafka.producer();
  await producer.connect();
  const sentAt = new Map<string, number>();
  for (let i = 0; i < events; i++) {
    const event = hopEvent(i, 'l');
    sentAt.set(event.id, now());
    await producer.send({ topic, acks: -1, messages: [toRecord(event)] });
    await pace(sentAt.get(event.id)!, event.id, handlerStarts);
  }
  progress('hop sent');
  await waitUntil(() => [...sentAt.keys()].every((id) => handlerStarts.at.has(id)));
  const latencies = [...sentAt].map(([id, at]) => handlerStarts.at.get(id)! - at).sort((a, b) => a - b);
  const burstEvents = Array.from({ length: events }, (_, i) => hopEvent(i, 't'));
  const burstIds = new Set(burstEvents.map((event) => event.id));
  const burst = burstEvents.map(toRecord);
  const start = now();
  const cpu = await cpuMeter(fnPid, store);
  await producer.send({ topic, acks: -1, messages: burst });
  await waitUntil(() => [...burstIds].every((id) => handlerStarts.at.has(id)));
  progress(`burst handled after ${(now() - start).toFixed(0)} ms`);
  await waitUntil(async () => (await countPublished(store)) >= events);
  progress(`burst published after ${(now() - start).toFixed(0)} ms`);
  const perSecond = events / ((now() - start) / 1000);
  const cpuPerEvent = await cpu(events);
  await producer.disconnect();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond, cpuPerEvent };
}

function print(bare: Figures, hop: Figures): void {
  const cpu = hop.cpuPerEvent;
  const ms = (value: number): string => `${value.toFixed(2)} ms`;
  const lines = [
    `hop benchmark (function ${functionMode === 'inline' ? 'inline in the bench process' : 'in its own process'}; ${events} events ${spacingMs === 0 ? 'in a closed loop' : `one every ${spacingMs} ms`} for latency, then a burst of ${events} for throughput; PostgreSQL as started by the stack; dispatcher order ${process.env['UPSHIFT_DEV_DELIVERY_ORDER'] ?? 'key'}${concurrency ? `, ${concurrency} in flight` : ''})`,
    `                      p50         p99         throughput`,
    `  bare kafkajs        ${ms(bare.p50).padEnd(12)}${ms(bare.p99).padEnd(12)}${bare.perSecond.toFixed(0)}/s`,
    `  upshift hop         ${ms(hop.p50).padEnd(12)}${ms(hop.p99).padEnd(12)}${hop.perSecond.toFixed(0)}/s (no-op handler emitting 1 event: inbox + outbox + relay publish)`,
    `  ratio (upshift/bare) p50 ${(hop.p50 / bare.p50).toFixed(2)}×  p99 ${(hop.p99 / bare.p99).toFixed(2)}×  throughput ${(hop.perSecond / bare.perSecond).toFixed(3)}×`,
    `  CPU per burst event: ${cpu?.fn === undefined ? '' : `function process ${cpu.fn.toFixed(3)} ms, `}bench process (dispatcher${functionMode === 'inline' ? ' + function' : ''}) ${cpu?.bench.toFixed(3)} ms${cpu?.postgres === undefined ? '' : `, its PostgreSQL backends ${cpu.postgres.toFixed(3)} ms`}`,
    `  deliveries retried ${redeliveries.retried}, answers of 429 ${redeliveries.throttled}, not delivered ${redeliveries.failed}`,
    `  aims (issue 18): p50 ≤ 1.5× → ${hop.p50 / bare.p50 <= 1.5 ? 'met' : 'missed'}; throughput ≥ 0.10× → ${hop.perSecond / bare.perSecond >= 0.1 ? 'met' : 'missed'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Runs the hop benchmark against the stack and prints the figures with the baseline and ratios. */
export async function benchHop(): Promise<void> {
  const env = stackEnv();
  const suffix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const prefix = `bench-${suffix}.`;
  const database = `upshift_bench_${suffix}`;
  const admin = new pg.Client({ connectionString: env['POSTGRES_ADMIN_URL'] });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(env['POSTGRES_ADMIN_URL']!);
  url.pathname = `/${database}`;
  const kafka = createKafka((env['KAFKA_BROKERS'] ?? '').split(','), 'upshift-bench');
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await ensureCatalogueTopics(kafkaAdmin, prefix, [{ topic: `${prefix}bare`, numPartitions: 3, replicationFactor: 1 }]);
  const { OTLP_ENDPOINT: _untraced, ...stack } = env;
  const fnEnv = { ...stack, DATABASE_URL: url.toString(), UPSHIFT_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const store = new pg.Client({ connectionString: url.toString() });
  let dev: Awaited<ReturnType<typeof runDev>> | undefined;
  const starts = functionMode === 'process' ? await collectStarts() : undefined;
  const processEnv = {
    BENCH_HOP_REPORT_PORT: String((starts?.address() as AddressInfo | undefined)?.port ?? ''),
    NODE_OPTIONS: process.env['BENCH_HOP_FUNCTION_NODE_OPTIONS'] ?? '',
  };
  try {
    dev = await runDev({
      env: fnEnv, quiet: true,
      functions: [{
        name: 'rollout', module: fileURLToPath(import.meta.url), mode: functionMode, ...(starts ? { env: processEnv } : {}),
        ...(concurrency ? { concurrency } : {}),
      }],
      onOutcome: (_target, outcome) => {
        if (outcome.attempts - outcome.throttled > 1) redeliveries.retried += 1;
        redeliveries.throttled += outcome.throttled;
        if (outcome.kind !== 'delivered') redeliveries.failed += 1;
      },
    });
    await store.connect();
    progress('bare start');
    const bare = await bareKafka(kafka, `${prefix}bare`);
    progress('hop start');
    const hop = await upshiftHop(kafka, `${prefix}upshift.rollout`, store, dev.functions[0]?.child?.pid);
    print(bare, hop);
  } finally {
    await store.end().catch(() => undefined);
    await dev?.stop();
    starts?.close();
    await deletePrefixedTopics(kafkaAdmin, prefix);
    await kafkaAdmin.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

// No top-level await: runDev imports this very module (the benchmarked function), which must finish
// evaluating first.
if (import.meta.main) {
  benchHop().catch((err: unknown) => {
    process.stderr.write(`hop benchmark failed: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
