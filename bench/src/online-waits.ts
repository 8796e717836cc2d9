/**
 * Where the online writer's time goes on PostgreSQL (issue 20). Each write is timed in parts — from its
 * scheduled time to its call (the writer's event loop), to a pooled connection, to its backend going idle
 * (seen by a sample: `state_change`), to the reply reaching the writer —
 * with its backend's scheduler counters read around it (/proc/<pid>/schedstat: on a core, runnable but
 * waiting for one). Meanwhile a connection of its own samples the writer's backends (`pg_stat_activity`
 * by `application_name`) every ~5 ms and classes what each active one waits on: row locks a batch holds
 * (Lock:transactionid/tuple), other locks, WAL (WALWrite/WALInsert/WALSync …), other I/O, other LWLocks,
 * or nothing (on a core or runnable). The machine's busy share (/proc/stat) and the CPU of postgres and
 * of the bench's own process over the phase say whether the two cores were the limit.
 */
import pg from 'pg';
import { cpuBetween, cpuByPid, cpuSecondsOfPid, machineTicks, schedstatOf } from './proc-stat.ts';
import type { StoreWriter } from './online-writer.ts';

/** The writer's `application_name`: the sampler finds its backends by it. */
export const writerApplicationName = 'bench-writer';
/** How often the writer's backends are sampled (ms; the sampling query itself takes some of that). */
const samplePeriodMs = 5;

/** One write, timed in parts (performance.now() ms), with its backend's scheduler time over the statement. */
export interface TimedWrite {
  scheduled: number;
  called: number;
  acquired: number;
  done: number;
  pid: number;
  cpuMs: number;
  runQueueMs: number;
}

/** What a writer backend was doing in one sample. */
export type WaitClass = 'row lock' | 'other lock' | 'WAL' | 'IO' | 'LWLock' | 'CPU/run' | 'other';
const waitClasses: readonly WaitClass[] = ['row lock', 'other lock', 'WAL', 'IO', 'LWLock', 'CPU/run', 'other'];
const walEvents = new Set(['WALWrite', 'WALInsert', 'WALBufMapping', 'WALSync', 'WALInitSync', 'WALInitWrite', 'WALRead', 'WALSyncMethodAssign']);

/** The class of an active backend's wait event (no wait event: on a core or runnable). */
export function waitClassOf(type: string | null, event: string | null): WaitClass {
  if (type === null) return 'CPU/run';
  if (type === 'Lock') return event === 'transactionid' || event === 'tuple' ? 'row lock' : 'other lock';
  if (walEvents.has(event ?? '')) return 'WAL';
  if (type === 'IO') return 'IO';
  if (type === 'LWLock') return 'LWLock';
  return 'other';
}

/** One active writer backend in one sample. */
interface Sample {
  at: number;
  pid: number;
  waitClass: WaitClass;
  event: string;
}

/** What one phase's probe saw. */
export interface PhaseWaits {
  writes: TimedWrite[];
  samples: Sample[];
  /** When each writer backend was seen to have gone idle (its statement done, performance.now() ms), by pid. */
  idleSince: Map<number, Set<number>>;
  sampleCount: number;
  seconds: number;
  machineBusy: number;
  postgresCores: number;
  benchCores: number;
}

/** The PostgreSQL writer of the online bench, each write timed in parts into `log`. */
export function timedPostgresWriter(pool: pg.Pool, table: string, log: TimedWrite[]): StoreWriter {
  const timed = async (scheduled: number, sql: string, values: unknown[]): Promise<void> => {
    const called = performance.now();
    const client = await pool.connect();
    try {
      const acquired = performance.now();
      const pid = (client as pg.PoolClient & { processID: number }).processID;
      const before = schedstatOf(pid);
      await client.query(sql, values);
      const after = schedstatOf(pid);
      log.push({ scheduled, called, acquired, done: performance.now(), pid, cpuMs: after.cpuMs - before.cpuMs, runQueueMs: after.runQueueMs - before.runQueueMs });
    } finally {
      client.release();
    }
  };
  return {
    update: (key, note, scheduled) => timed(scheduled, `UPDATE ${table} SET note = $2 WHERE id = $1`, [key, note]),
    insert: (key, note, scheduled) => timed(scheduled,
      `INSERT INTO ${table} (id, customer_id, amount, note, created_at, line, schema_version) VALUES ($1, 1, 1.5, $2, now(), '{}', 1)`, [key, note]),
  };
}

/** A running probe of one phase: the writes go into `writes`; stop it for what it saw. */
export interface WriterWaitProbe {
  writes: TimedWrite[];
  stop(): Promise<PhaseWaits>;
}

/** Starts sampling the writer's backends of the database at `url` (a connection of its own) and the machine. */
export async function startWriterWaitProbe(url: string): Promise<WriterWaitProbe> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-waits' });
  await client.connect();
  const writes: TimedWrite[] = [];
  const samples: Sample[] = [];
  const idleSince = new Map<number, Set<number>>();
  let sampleCount = 0;
  let stopped = false;
  const started = { at: performance.now(), machine: machineTicks(), postgres: cpuByPid('postgres'), bench: cpuSecondsOfPid(process.pid) };
  const sampling = (async () => {
    while (!stopped) {
      const sent = performance.now();
      const { rows } = await client.query<{ pid: number; state: string; type: string | null; event: string | null; changed: number }>(
        `SELECT pid, state, wait_event_type AS type, wait_event AS event, extract(epoch FROM state_change) * 1000 AS changed FROM pg_stat_activity WHERE application_name = $1`, [writerApplicationName]);
      const at = (sent + performance.now()) / 2;
      sampleCount += 1;
      for (const row of rows) {
        if (row.state === 'active') samples.push({ at, pid: row.pid, waitClass: waitClassOf(row.type, row.event), event: `${row.type ?? 'none'}:${row.event ?? ''}` });
        else if (row.state === 'idle') idleSince.set(row.pid, (idleSince.get(row.pid) ?? new Set<number>()).add(Number(row.changed) - performance.timeOrigin));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, sent + samplePeriodMs - performance.now())));
    }
  })();
  return {
    writes,
    stop: async () => {
      stopped = true;
      await sampling;
      await client.end();
      const seconds = (performance.now() - started.at) / 1000;
      const machine = machineTicks();
      return {
        writes, samples, idleSince, sampleCount, seconds,
        machineBusy: (machine.busy - started.machine.busy) / Math.max(1, machine.total - started.machine.total),
        postgresCores: cpuBetween(started.postgres, cpuByPid('postgres')) / seconds,
        benchCores: (cpuSecondsOfPid(process.pid) - started.bench) / seconds,
      };
    },
  };
}

/** Several rounds of one phase as one. */
export function pooledWaits(rounds: readonly PhaseWaits[]): PhaseWaits {
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0) || 1;
  const weighted = (pick: (r: PhaseWaits) => number) => rounds.reduce((sum, r) => sum + pick(r) * r.seconds, 0) / seconds;
  return {
    writes: rounds.flatMap((r) => r.writes), samples: rounds.flatMap((r) => r.samples),
    idleSince: new Map(rounds.flatMap((r) => [...r.idleSince]).reduce((all, [pid, times]) => all.set(pid, new Set([...(all.get(pid) ?? []), ...times])), new Map<number, Set<number>>())),
    sampleCount: rounds.reduce((sum, r) => sum + r.sampleCount, 0), seconds,
    machineBusy: weighted((r) => r.machineBusy), postgresCores: weighted((r) => r.postgresCores), benchCores: weighted((r) => r.benchCores),
  };
}

/** Shares of samples by class, in words: `row lock 41 %, WAL 12 %, …` (classes under 0.5 % left out). */
function describeClasses(samples: readonly Sample[]): string {
  const counts = new Map<WaitClass, number>();
  for (const sample of samples) counts.set(sample.waitClass, (counts.get(sample.waitClass) ?? 0) + 1);
  const total = Math.max(1, samples.length);
  const shares = waitClasses.filter((c) => (counts.get(c) ?? 0) / total >= 0.005).map((c) => `${c} ${Math.round(((counts.get(c) ?? 0) / total) * 100)} %`);
  const events = new Map<string, number>();
  for (const sample of samples) if (sample.waitClass !== 'CPU/run') events.set(sample.event, (events.get(sample.event) ?? 0) + 1);
  const top = [...events].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([event, count]) => `${event} ${Math.round((count / total) * 100)} %`);
  return `${shares.join(', ') || 'none'} of ${samples.length} busy samples${top.length > 0 ? ` (top waits: ${top.join(', ')})` : ''}`;
}

/** When PostgreSQL finished `write` (its backend went idle), if a sample saw it; undefined otherwise. */
function serverDoneOf(write: TimedWrite, idleSince: ReadonlyMap<number, ReadonlySet<number>>): number | undefined {
  let first: number | undefined;
  for (const at of idleSince.get(write.pid) ?? []) if (at >= write.acquired && at <= write.done && (first === undefined || at < first)) first = at;
  return first;
}

/**
 * Where the time of `writes` went, mean ms per write: the writer's event loop before the call, the pool,
 * the backend on a core, runnable (waiting for a core), blocked (the rest of its statement: locks, I/O,
 * network), and the reply (its backend idle, the writer's event loop not yet back: only for the writes
 * whose end a sample saw, the others count it as blocked).
 */
function describeParts(writes: readonly TimedWrite[], idleSince: ReadonlyMap<number, ReadonlySet<number>>): string {
  const n = Math.max(1, writes.length);
  const sums = { total: 0, 'writer loop': 0, pool: 0, 'PG on CPU': 0, 'PG runnable': 0, 'PG blocked': 0, reply: 0 };
  let seen = 0;
  for (const w of writes) {
    const serverDone = serverDoneOf(w, idleSince);
    if (serverDone !== undefined) seen += 1;
    const reply = serverDone === undefined ? 0 : w.done - serverDone;
    sums.total += w.done - w.scheduled;
    sums['writer loop'] += w.called - w.scheduled;
    sums.pool += w.acquired - w.called;
    sums['PG on CPU'] += w.cpuMs;
    sums['PG runnable'] += w.runQueueMs;
    sums['PG blocked'] += Math.max(0, w.done - w.acquired - w.cpuMs - w.runQueueMs - reply);
    sums.reply += reply;
  }
  const { total, ...parts } = sums;
  return `mean ${(total / n).toFixed(1)} ms = ${Object.entries(parts).map(([name, ms]) => `${name} ${(ms / n).toFixed(1)}`).join(' + ')} (reply seen for ${Math.round((seen / n) * 100)} %)`;
}

/** The samples of each write's backend taken while the write ran. */
function samplesDuring(writes: readonly TimedWrite[], samples: readonly Sample[]): Sample[] {
  const byPid = new Map<number, Sample[]>();
  for (const sample of samples) {
    const ofPid = byPid.get(sample.pid) ?? [];
    ofPid.push(sample);
    byPid.set(sample.pid, ofPid);
  }
  return writes.flatMap((w) => (byPid.get(w.pid) ?? []).filter((s) => s.at >= w.acquired && s.at <= w.done));
}

/** The phase's attribution lines: what the writer's busy backends waited on, where all and the slow writes' time went, the machine. */
export function describeWaits(waits: PhaseWaits, slowerThanMs: number, cores: number): string[] {
  const slow = waits.writes.filter((w) => w.done - w.scheduled > slowerThanMs);
  const latencies = waits.writes.map((w) => w.done - w.scheduled).sort((a, b) => a - b);
  const p99 = latencies[Math.floor(0.99 * latencies.length)] ?? 0;
  const tail = waits.writes.filter((w) => w.done - w.scheduled >= p99);
  return [
    `writer waits: ${describeClasses(waits.samples)}; ${waits.sampleCount} samples (${Math.round(waits.sampleCount / Math.max(1e-9, waits.seconds))}/s)`,
    `all ${waits.writes.length} writes: ${describeParts(waits.writes, waits.idleSince)}`,
    `${slow.length} writes > ${slowerThanMs.toFixed(1)} ms (alone p99): ${describeParts(slow, waits.idleSince)}; their samples: ${describeClasses(samplesDuring(slow, waits.samples))}`,
    `its own top 1 % (${tail.length} writes ≥ ${p99.toFixed(1)} ms): ${describeParts(tail, waits.idleSince)}; their samples: ${describeClasses(samplesDuring(tail, waits.samples))}`,
    `machine ${Math.round(waits.machineBusy * 100)} % busy (${(waits.machineBusy * cores).toFixed(2)} of ${cores} cores; postgres ${waits.postgresCores.toFixed(2)}, bench process ${waits.benchCores.toFixed(2)})`,
  ];
}
