/**
 * How many batches of one store may run at once (`strategy.throttle.storeBatchesInFlight`), pure: a
 * number is the operator's fixed cap; `auto` (the default) adapts the cap AIMD-style to the store's own signals, one
 * cap shared by every shard of the store (a row of the control store's budgets). Contention halves it:
 * writers waiting on a batch or a forced checkpoint (a `slowed` store) no lower than 2 — one batch
 * still holds row locks, so 1 costs half the rate for little of the writers' tail (bench/README.md) —
 * and a store over a hard limit (a lagging standby, too many active sessions, the operator's query, a
 * lock on the table: `held`) down to 1. A quiet batch on its target time that found every slot taken
 * adds one, up to `adaptiveInFlightBound`: growing only while the cap is what limits the shards keeps it
 * near the batches actually in flight, so one halving always bites. A halving waits one batch time
 * after the last change (every shard that sees one burst of contention halves the cap once); a growth
 * waits `growAfterMs`: growing as fast as it halves would win back each halving before the writers'
 * next wait shows it (the online bench's 200 writes/s meet a batch's locks every second or so).
 */
import type { StrategyThrottle } from '@upshift/events/contract';
import type { ThrottleDecision } from './throttle.ts';

/** The most batches of one store an adaptive cap allows (and the slots a shard looks over). */
export const adaptiveInFlightBound = 32;
/** An adaptive cap starts here (and comes back here when its store forgot it). */
export const initialAdaptiveInFlight = 2;
/** An adaptive cap grows by one at most this often (ms since its last change). */
export const growAfterMs = 2000;
/** Writers waiting on batches (a `slowed` store) halve the cap no lower than this; only a held store takes it to 1. */
export const slowedInFlightFloor = 2;
/** A store's adaptive cap is forgotten this long after its last change. */
export const adaptiveInFlightMemoryMs = 10 * 60_000;
/** A batch up to this many times its target time is on target. */
export const onTargetFactor = 1.5;

/** How the cap of a store's batches in flight is kept, from the policy. */
export interface InFlightSetting {
  adaptive: boolean;
  /** The fixed cap, or the adaptive cap's largest value. */
  bound: number;
  /** The cap before anything was learnt. */
  initial: number;
}

/** The setting of `strategy.throttle.storeBatchesInFlight`. */
export function inFlightSetting(limit: StrategyThrottle['storeBatchesInFlight']): InFlightSetting {
  if (limit === 'auto') return { adaptive: true, bound: adaptiveInFlightBound, initial: initialAdaptiveInFlight };
  return { adaptive: false, bound: limit, initial: limit };
}

/** A cap and why it is what it is. */
export interface InFlightCap {
  cap: number;
  why: string;
}

/** What one batch (or one look while held) says about the store, for the adaptive cap. */
export interface InFlightObservation {
  /** The shared cap as last seen. */
  seen: InFlightCap;
  setting: InFlightSetting;
  /** The throttle's decision after the batch (or while held). */
  decision: ThrottleDecision;
  /** How long the batch ran (ms); undefined for a look without a batch. */
  batchMs: number | undefined;
  targetBatchMs: number;
  /** Batches of the store in flight when this one started, itself included (undefined: no batch). */
  inFlightAtStart: number | undefined;
}

/** A change of the adaptive cap, made only when its last change is at least `afterMs` old. */
export interface InFlightChange {
  next: InFlightCap;
  afterMs: number;
}

/** The change of the adaptive cap an observation calls for; undefined when it stays (a fixed cap never changes). */
export function nextInFlightCap(observation: InFlightObservation): InFlightChange | undefined {
  const { seen, setting, decision, batchMs, targetBatchMs, inFlightAtStart } = observation;
  if (!setting.adaptive) return undefined;
  if (decision.state !== 'clear') {
    const floor = decision.state === 'held' ? 1 : Math.min(slowedInFlightFloor, setting.bound);
    const cap = Math.max(floor, Math.floor(seen.cap / 2));
    return cap >= seen.cap ? undefined : { next: { cap, why: decision.reason }, afterMs: targetBatchMs };
  }
  const onTarget = batchMs !== undefined && batchMs <= targetBatchMs * onTargetFactor;
  const full = inFlightAtStart !== undefined && inFlightAtStart >= seen.cap;
  if (!onTarget || !full || seen.cap >= setting.bound) return undefined;
  return { next: { cap: seen.cap + 1, why: 'quiet, batches on target' }, afterMs: Math.max(growAfterMs, targetBatchMs) };
}

/** The longest why of a cap in a shard's progress (the whole message is bounded: `run.progress` carries at most 2,000 characters). */
export const inFlightWhyChars = 200;

/** The cap as shown in a shard's progress: `≤ 2 store batches at once (auto: 1 session waiting …)`. */
export function describeInFlight(cap: InFlightCap & { adaptive: boolean }): string {
  const why = cap.why.length > inFlightWhyChars ? `${cap.why.slice(0, inFlightWhyChars - 1)}…` : cap.why;
  const mode = cap.adaptive ? `auto${why === '' ? '' : `: ${why}`}` : 'fixed';
  return `≤ ${cap.cap} store batch${cap.cap === 1 ? '' : 'es'} at once (${mode})`;
}
