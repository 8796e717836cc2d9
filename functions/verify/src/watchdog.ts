/**
 * The run watchdog, in verify (the function that ends runs): every UPSHIFT_WATCHDOG_INTERVAL_MS one
 * instance (the `watchdog` lease) looks for active runs unchanged for UPSHIFT_STALL_AFTER_MS. A stalled
 * run's unhandled work events are published again (a nudge; they are idempotent by design) up to
 * UPSHIFT_STALL_NUDGES times; then, or when nothing is pending, the run fails with "stuck in <stage>
 * since <time>: <what is pending>" (`onStall`), so `upshift request --wait` and `watch` never wait on a
 * run that nobody is working on. A paused run is left alone (`watchdogClock`): it waits for its operator,
 * and a resume counts as progress.
 */
import { entries } from '@upshift/events';
import {
  acquireLease, finalRunStatuses, isUpshiftError, lockRun, nudgesOf, onStall, readRunControl, readRunFacts, recordStall, releaseLease, republish, stalledRuns,
  watchdogClock, workEventsOf, type FunctionDeps, type Queryable, type RunStatus, type StalledRun,
} from '@upshift/runtime';
import type { VerifyConfig } from './config.ts';
import { failRun } from './fail-run.ts';

/** Which function consumes each work event type (the catalogue's routes). */
const consumers: ReadonlyMap<string, string> = new Map(entries.flatMap((e) => (e.consumer === null ? [] : [[e.type, e.consumer] as const])));

/** A running watchdog. */
export interface Watchdog {
  stop(): Promise<void>;
}

/** Starts the watchdog (a no-op when UPSHIFT_WATCHDOG_INTERVAL_MS is 0). */
export function startWatchdog(deps: FunctionDeps<VerifyConfig>, holder: string): Watchdog {
  const every = deps.config.UPSHIFT_WATCHDOG_INTERVAL_MS;
  if (every <= 0) return { stop: async () => undefined };
  let sweeping: Promise<void> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    sweeping = sweepOnce(deps, holder, every).catch((err: unknown) => deps.log.warn({ err }, 'run watchdog: sweep failed; next time')).finally(() => {
      busy = false;
    });
  }, every);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await sweeping;
    },
  };
}

/** One sweep under the `watchdog` lease (another instance sweeping meanwhile: skip). */
export async function sweepOnce(deps: FunctionDeps<VerifyConfig>, holder: string, leaseMs: number): Promise<void> {
  const lease = await acquireLease(deps.pool, 'watchdog', holder, Math.max(1000, leaseMs * 2)).catch((err: unknown) => {
    if (isUpshiftError(err) && err.code === 'LEASE_HELD') return undefined;
    throw err;
  });
  if (!lease) return;
  try {
    for (const run of await stalledRuns(deps.pool, deps.config.UPSHIFT_STALL_AFTER_MS)) {
      if (await stillStalled(deps.pool, run, deps.config.UPSHIFT_STALL_AFTER_MS)) await nudgeOrFail(deps, run);
    }
  } finally {
    await releaseLease(deps.pool, lease).catch(() => undefined);
  }
}

/**
 * Whether the run is stalled as its controls see it: a paused running run, or one waiting at a gate, is
 * left alone (it waits for its operator, however long), and a control (a resume) counts as a change.
 */
async function stillStalled(db: Queryable, run: StalledRun, stallAfterMs: number, status?: RunStatus): Promise<boolean> {
  const control = await readRunControl(db, run.runId);
  const current = status ?? (await readRunFacts(db, run.runId))?.status ?? 'running';
  const clock = watchdogClock(run.since.getTime(), { paused: control.paused, gateWave: control.gateWave, changedAt: control.updatedAt?.getTime() }, current);
  return clock !== undefined && clock <= Date.now() - stallAfterMs;
}

async function nudgeOrFail(deps: FunctionDeps<VerifyConfig>, run: StalledRun): Promise<void> {
  const events = await workEventsOf(deps.pool, run.runId, consumers);
  const pending = events.filter((e) => !e.handled);
  const nudges = await nudgesOf(deps.pool, run.runId);
  const decision = onStall({ since: run.since.getTime(), pending, latestType: events.at(-1)?.type, nudges, limit: deps.config.UPSHIFT_STALL_NUDGES });
  deps.log.warn({ runId: run.runId, since: run.since, pending: pending.length, decision }, `run ${run.runId} made no progress: ${decision.kind}`);
  await deps.decide(`watchdog:${run.runId}:${nudges}`, async (d) => {
    const locked = await lockRun(d.tx, run.runId);
    // Changed since the look (or ended): nothing to do this time.
    if (!locked || finalRunStatuses.has(locked.status) || (await stalledRuns(d.tx, deps.config.UPSHIFT_STALL_AFTER_MS, { only: run.runId })).length === 0) return;
    // Paused meanwhile (a paused run waits for its operator), or controlled since the look.
    if (!(await stillStalled(d.tx, run, deps.config.UPSHIFT_STALL_AFTER_MS, locked.status))) return;
    const detail = { pending: pending.map((p) => p.id), since: run.since.toISOString() };
    if (decision.kind === 'nudge') {
      await republish(d.tx, run.runId, pending.map((p) => p.id));
      await recordStall(d.tx, run.runId, decision.nudge, { decision: 'nudge', ...detail });
      return;
    }
    await recordStall(d.tx, run.runId, nudges, { decision: 'fail', ...detail, reason: decision.reason });
    await failRun(d, run.runId, locked.status, decision);
  });
}
