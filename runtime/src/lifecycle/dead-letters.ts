/**
 * What a run does with one of its events that was dead-lettered (pure): delivery gave up on it, so unless
 * upshift acts, the run waits for ever. A transient cause (the function was down, busy, or answered 5xx)
 * is redriven with backoff, a bounded number of times; a permanent one (the event was refused: 4xx), or
 * one that outlasts the redrives, fails the run with its failure policy and a reason naming the event,
 * the stage and the cause. A run that already ended only records it.
 */
import type { Stage } from '@upshift/events';

/** A dead-lettered event as the dead-letter sink describes it (Knative's `knativeerror*` attributes). */
export interface DeadLetter {
  /** The CloudEvents type of the event that was given up on. */
  readonly type: string;
  readonly id: string;
  /** Where delivery was attempted (`knativeerrordest`). */
  readonly destination: string;
  /** The last HTTP status (`knativeerrorcode`); 0 when there was no answer. */
  readonly status: number;
  /** Why (`knativeerrordata`: the last response body or the dispatcher's words). */
  readonly reason: string;
}

/** What to do with a dead letter. */
export type DeadLetterDecision =
  | { kind: 'redrive'; delayMs: number; redrive: number }
  | { kind: 'fail'; stage: Stage; reason: string }
  | { kind: 'record'; why: string };

/** Delivery statuses worth another try (Knative's retry rule): no answer, 404, 408, 409, 429, 5xx. */
export function isTransientStatus(status: number): boolean {
  return status === 0 || status === 404 || status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The stage an event belongs to, by its short name (`shard.requested` → migrate). */
export function stageOfEvent(type: string): Stage {
  const name = type.replace(/^dev\.upshift\./, '').replace(/\.v\d+$/, '');
  if (name === 'upgrade.requested') return 'plan';
  if (name.startsWith('migration.expand.requested')) return 'expand';
  if (name === 'migration.expand.done' || name.startsWith('rollout.')) return 'rollout';
  if (name === 'migration.contract.requested') return 'contract';
  if (name === 'verify.requested') return 'verify';
  if (name === 'rollback.requested' || name.startsWith('shard.restore.') || name.startsWith('image.revert.')) return 'rollback';
  return 'migrate';
}

/** How long before redrive `n` (1-based): 2 s, 4 s, 8 s … at most 30 s. */
export function redriveDelayMs(redrive: number): number {
  return Math.min(30_000, 1000 * 2 ** redrive);
}

/**
 * Decides a dead letter of a run: `redrives` is how many times this event was redriven before,
 * `limit` how many are allowed, `runEnded` whether the run already has its final status.
 */
export function onDeadLetter(letter: DeadLetter, state: { redrives: number; limit: number; runEnded: boolean }): DeadLetterDecision {
  const cause = `HTTP ${letter.status}${letter.reason ? `: ${letter.reason}` : ''}`;
  if (state.runEnded) return { kind: 'record', why: `the run had already ended (${cause})` };
  const stage = stageOfEvent(letter.type);
  const named = `${letter.type} ${letter.id} to ${letter.destination || 'its function'} was dead-lettered`;
  if (!isTransientStatus(letter.status)) return { kind: 'fail', stage, reason: clip(`${named}: refused, ${cause}`) };
  if (state.redrives >= state.limit) return { kind: 'fail', stage, reason: clip(`${named} again after ${state.redrives} redrive(s): ${cause}`) };
  const redrive = state.redrives + 1;
  return { kind: 'redrive', redrive, delayMs: redriveDelayMs(redrive) };
}

function clip(text: string): string {
  return text.length <= 2000 ? text : `${text.slice(0, 1999)}…`;
}
