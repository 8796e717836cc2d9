/**
 * The run watchdog's decision (pure): a run that made no progress for a while (no step, checkpoint or
 * event of it changed) is nudged — the work events nobody handled yet are published again, as they are
 * (idempotent by design) — a bounded number of times; then, or when nothing is pending at all, it fails
 * with "stuck in <stage> since <time>: <what is pending>", so nobody waits on a run nobody works on.
 */
import type { Stage } from '@upshift/events';
import { stageOfEvent } from './dead-letters.ts';

/** A work event of the run that its consumer has not handled. */
export interface PendingEvent {
  readonly type: string;
  readonly id: string;
  readonly consumer: string;
}

/** What the watchdog knows about a stalled run. */
export interface Stall {
  /** When the run last changed (epoch ms). */
  readonly since: number;
  /** Its unhandled work events, oldest first. */
  readonly pending: readonly PendingEvent[];
  /** The type of its latest work event (where it stands), if any. */
  readonly latestType: string | undefined;
  /** Nudges already given. */
  readonly nudges: number;
  readonly limit: number;
}

/** What the watchdog does with a stalled run. */
export type StallDecision = { kind: 'nudge'; nudge: number } | { kind: 'fail'; stage: Stage; reason: string };

/** Decides a stalled run. */
export function onStall(stall: Stall): StallDecision {
  if (stall.pending.length > 0 && stall.nudges < stall.limit) return { kind: 'nudge', nudge: stall.nudges + 1 };
  const latest = stall.pending.at(-1)?.type ?? stall.latestType;
  const stage: Stage = latest ? stageOfEvent(latest) : 'plan';
  const what = stall.pending.length === 0
    ? 'no work is pending (every event was handled), yet the run did not end'
    : `${stall.pending.length} event(s) not handled after ${stall.nudges} nudge(s): ${stall.pending.slice(0, 5).map((p) => `${shortName(p.type)} ${p.id} for ${p.consumer}`).join(', ')}${stall.pending.length > 5 ? ', …' : ''}`;
  const reason = `stuck in ${stage} since ${new Date(stall.since).toISOString()}: ${what}`;
  return { kind: 'fail', stage, reason: reason.length <= 2000 ? reason : `${reason.slice(0, 1999)}…` };
}

function shortName(type: string): string {
  return type.replace(/^dev\.upshift\./, '').replace(/\.v\d+$/, '');
}
