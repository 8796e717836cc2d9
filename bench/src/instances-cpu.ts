/**
 * Samples of the instances benchmark's PostgreSQL backends (pg_stat_activity of the run's databases):
 * their CPU from /proc and what they were doing (the /proc helpers are `proc-stat.ts`).
 */
import type pg from 'pg';
import { cpuSecondsOfPid } from './proc-stat.ts';

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
