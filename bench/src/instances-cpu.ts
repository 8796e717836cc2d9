/**
 * CPU accounting of the instances benchmark: CPU seconds of processes from /proc/<pid>/stat (utime +
 * stime), the postgres processes of the machine, and samples of the run's PostgreSQL backends
 * (pg_stat_activity of the run's databases): their CPU from /proc and what they were doing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function cpuSecondsOfPid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond; // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

/** CPU seconds of `pids` together. */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSecondsOfPid(pid), 0);
}

/** CPU seconds of each process named `name` now, by pid. */
export function cpuByPid(name: string): Map<number, number> {
  return new Map(processesNamed(name).map((pid) => [pid, cpuSecondsOfPid(pid)]));
}

/**
 * CPU seconds the processes used between two snapshots: a process started since counts whole, one that
 * exited meanwhile is lost (its CPU is gone from /proc), so this is a lower bound.
 */
export function cpuBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += Math.max(0, seconds - (before.get(pid) ?? 0));
  return total;
}

/** CPU time of the whole machine so far from /proc/stat: busy and total clock ticks over every core. */
export function machineTicks(): { busy: number; total: number } {
  const [cpu = ''] = readFileSync('/proc/stat', 'utf8').split('\n');
  const ticks = cpu.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle, iowait
  return { busy: total - idle, total };
}

/** The pids of the processes whose command name is `name`. */
export function processesNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** What a backend was doing in one sample. */
type Activity = 'cpu' | 'client' | 'io' | 'lock' | 'other';

/** The samples of the run's backends. */
export interface BackendSamples {
  /** CPU seconds the run's backends used while sampled (each from its first to its last sample). */
  readonly cpuSeconds: number;
  /** Share of active-or-waiting backend samples in `activity`. */
  share(activity: Activity): number;
}

function activityOf(state: string, waitType: string | null): Activity | undefined {
  if (state === 'idle') return undefined;
  if (waitType === null) return state === 'active' ? 'cpu' : undefined;
  if (waitType === 'Client') return 'client';
  if (waitType === 'IO') return 'io';
  if (waitType === 'Lock' || waitType === 'LWLock') return 'lock';
  return 'other';
}

/** Samples the backends of `databases` every 200 ms until `signal` aborts. */
export async function sampleBackends(admin: pg.Client, databases: readonly string[], signal: AbortSignal): Promise<BackendSamples> {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const counts: Record<Activity, number> = { cpu: 0, client: 0, io: 0, lock: 0, other: 0 };
  while (!signal.aborted) {
    const { rows } = await admin.query<{ pid: number; state: string | null; wait: string | null }>(
      `SELECT pid, state, wait_event_type AS wait FROM pg_stat_activity WHERE datname = ANY($1) AND backend_type = 'client backend' AND pid <> pg_backend_pid()`, [databases]);
    for (const row of rows) {
      const cpu = cpuSecondsOfPid(row.pid);
      if (!first.has(row.pid)) first.set(row.pid, cpu);
      last.set(row.pid, cpu);
      const activity = activityOf(row.state ?? 'idle', row.wait);
      if (activity) counts[activity] += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  let cpuSeconds = 0;
  for (const [pid, end] of last) cpuSeconds += end - (first.get(pid) ?? end);
  const total = Object.values(counts).reduce((a, b) => a + b, 0) || 1;
  return { cpuSeconds, share: (activity) => counts[activity] / total };
}
