/**
 * The store throttle (pure): from what the database says about itself (sessions blocked on the table,
 * active sessions, standby lag, forced checkpoints, the operator's throttle query) and the policy's
 * limits, how big the next batch may be, how long to pause before it, and why. Three states, worst
 * wins: `clear` (go on at the adaptive size), `slowed` (writers felt the last batch: halve the next one
 * and pause half a batch), `held` (the store is over a limit: start no batch, look again).
 */
import type { StrategyThrottle } from '@upshift/events/contract';
import type { StoreSignalReading } from '@upshift/migrations';
import { describeInFlight, type InFlightCap } from './batches-in-flight.ts';

/** What the store said (the migrations package's reading, without the list of signals it cannot give). */
export type StoreSignals = Omit<StoreSignalReading, 'unavailable'>;

/** The throttle's states, mildest first. */
export const throttleStates = ['clear', 'slowed', 'held'] as const;
/** One throttle state. */
export type ThrottleStateName = (typeof throttleStates)[number];

/** What the shard does next, and why (shown in progress, `upshift watch` and the shard's step). */
export interface ThrottleDecision {
  state: ThrottleStateName;
  /** The largest next batch (undefined: the adaptive size stands). */
  batchCap: number | undefined;
  /** Wait this long before the next batch (held: before looking again). */
  pauseMs: number;
  /** Every limit that was crossed, in words; empty when clear. */
  reason: string;
}

/** What the decision looks at besides the signals. */
export interface ThrottleInput {
  signals: StoreSignals;
  limits: StrategyThrottle;
  /** The batch the adaptive controller asks for next. */
  batchSize: number;
  /** How long the last batch held its locks (ms); 0 before the first. */
  lastBatchMs: number;
  /** The table or collection, for the reason. */
  target: string;
}

/** How long a held shard waits before it looks at the store again. */
export const heldLookMs = 500;
/** The smallest batch the throttle shrinks to. */
export const smallestThrottledBatch = 10;
/**
 * A store batch slot (`storeBatchesInFlight`) is lost this long after it was taken when never given
 * back (its worker died mid-batch): longer than a batch may last (the engines' statement timeout, 30 s).
 */
export const batchSlotLeaseMs = 35_000;
/** The shortest wait before a shard looks for a free batch slot again. */
export const slotLookMs = 10;

/**
 * How long a shard that found every batch slot of its store taken waits before it looks again: until
 * the first taken one is expected back (`freeAt`, epoch ms), between `slotLookMs` and `heldLookMs`.
 */
export function slotWaitMs(freeAt: number | undefined, now: number): number {
  const expected = freeAt === undefined ? slotLookMs : freeAt - now;
  return Math.min(heldLookMs, Math.max(slotLookMs, Math.round(expected)));
}

interface Finding {
  state: Exclude<ThrottleStateName, 'clear'>;
  reason: string;
}

/** The next batch's cap and pause from the store's signals and the policy's limits. */
export function decideThrottle(input: ThrottleInput): ThrottleDecision {
  const findings = crossedLimits(input);
  if (findings.length === 0) return { state: 'clear', batchCap: undefined, pauseMs: 0, reason: '' };
  const held = findings.some((finding) => finding.state === 'held');
  const reason = findings.map((finding) => finding.reason).join('; ');
  const halved = Math.max(smallestThrottledBatch, Math.floor(input.batchSize / 2));
  if (held) return { state: 'held', batchCap: halved, pauseMs: heldLookMs, reason };
  // Writers waited on the last batch: the next one holds half the rows (so half as long), after a pause
  // of half a batch that lets the writers' queue drain; longer pauses bought nothing measurable (README).
  return { state: 'slowed', batchCap: halved, pauseMs: Math.max(5, Math.round(Math.min(input.limits.targetBatchMs, input.lastBatchMs) / 2)), reason };
}

function crossedLimits({ signals, limits, target }: ThrottleInput): Finding[] {
  const findings: Finding[] = [];
  const { blockedSessions, activeSessions, replicationLagSeconds, forcedCheckpoints, operatorValue } = signals;
  if (replicationLagSeconds !== undefined && replicationLagSeconds > limits.maxReplicationLagSeconds) {
    findings.push({ state: 'held', reason: `standby lag ${replicationLagSeconds.toFixed(1)} s > ${limits.maxReplicationLagSeconds} s` });
  }
  if (activeSessions !== undefined && activeSessions > limits.maxActiveSessions) {
    findings.push({ state: 'held', reason: `${activeSessions} active sessions > ${limits.maxActiveSessions}` });
  }
  if (operatorValue !== undefined && limits.query && !(operatorValue <= limits.query.max)) {
    findings.push({ state: 'held', reason: `throttle query ${Number.isFinite(operatorValue) ? operatorValue : 'failed'} > ${limits.query.max}` });
  }
  if (blockedSessions !== undefined && blockedSessions > limits.maxBlockedSessions) {
    findings.push({ state: 'slowed', reason: `${blockedSessions} session${blockedSessions === 1 ? '' : 's'} waiting for locks on ${target}` });
  }
  if (forcedCheckpoints !== undefined && forcedCheckpoints > 0) {
    findings.push({ state: 'slowed', reason: `${forcedCheckpoints} checkpoint${forcedCheckpoints === 1 ? '' : 's'} forced by WAL volume` });
  }
  return findings;
}

/**
 * Sessions blocked on the table behind someone other than upshift (a long transaction, a DDL) while
 * this shard runs no batch: a batch now would queue behind them and block more writers, so the shard
 * holds. Sessions waiting behind another shard's batch only slow it.
 */
export function blockedBetweenBatches(decision: ThrottleDecision, signals: StoreSignals, limits: StrategyThrottle): ThrottleDecision {
  const byOthers = (signals.blockedSessions ?? 0) - (signals.blockedByUpshift ?? 0);
  if (decision.state !== 'slowed' || byOthers <= limits.maxBlockedSessions) return decision;
  return { ...decision, state: 'held', pauseMs: heldLookMs, reason: `${decision.reason} (not ours: holding until they clear)` };
}

/** The throttle state as a shard's step and progress keep it. */
export interface ThrottleState {
  state: ThrottleStateName;
  reason: string;
  /** Signals the store could not give (e.g. FerretDB: queues, replication lag). */
  unavailable?: string[];
  /** Since when (epoch ms) the shard is in this state. */
  since: number;
  /** The store's cap of batches in flight as the shard last saw it, and why (adaptive: its last change). */
  batchesInFlight?: InFlightCap & { adaptive: boolean };
}

/** The state after a decision: `since` kept while the state does not change. */
export function nextThrottleState(
  previous: ThrottleState | undefined, decision: ThrottleDecision, now: number, unavailable: readonly string[], batchesInFlight?: InFlightCap & { adaptive: boolean },
): ThrottleState {
  const since = previous?.state === decision.state ? previous.since : now;
  return {
    state: decision.state, reason: decision.reason, since, ...(unavailable.length > 0 ? { unavailable: [...unavailable] } : {}),
    ...(batchesInFlight ? { batchesInFlight: { ...batchesInFlight } } : {}),
  };
}

/** The state in a few words, for `run.progress` messages and `upshift watch`. */
export function describeThrottle(state: ThrottleState | undefined, now: number): string {
  if (!state) return '';
  const unavailable = state.unavailable && state.unavailable.length > 0 ? `; store gives no ${state.unavailable.join(', ')}` : '';
  const inFlight = state.batchesInFlight ? `; ${describeInFlight(state.batchesInFlight)}` : '';
  if (state.state === 'clear') return `throttle clear${inFlight}${unavailable}`;
  const forSeconds = Math.max(0, Math.round((now - state.since) / 1000));
  return `throttle ${state.state} ${forSeconds} s: ${state.reason}${inFlight}${unavailable}`;
}

/** The throttle as a suffix of a shard's progress message (`; throttle held 3 s: …`), empty before the first look. */
export function throttleNote(state: ThrottleState | undefined, now: number): string {
  const words = describeThrottle(state, now);
  return words === '' ? '' : `; ${words}`;
}
