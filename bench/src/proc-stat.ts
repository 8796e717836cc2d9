/**
 * CPU accounting of processes on this machine, shared by the benchmarks (instances, online): CPU seconds
 * of processes from /proc/<pid>/stat (utime + stime), the processes of one name, the machine's busy and
 * total clock ticks from /proc/stat, and a process's scheduler counters (/proc/<pid>/schedstat: time on a
 * core and time runnable but waiting for one).
 */
import { readdirSync, readFileSync } from 'node:fs';

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

/** Scheduler counters of a process so far, ms: on a core, and runnable but waiting for one; zeros when it is gone. */
export function schedstatOf(pid: number): { cpuMs: number; runQueueMs: number } {
  try {
    const [onCpu = '0', waiting = '0'] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/);
    return { cpuMs: Number(onCpu) / 1e6, runQueueMs: Number(waiting) / 1e6 };
  } catch {
    return { cpuMs: 0, runQueueMs: 0 };
  }
}
