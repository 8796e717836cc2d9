/**
 * An operator's throttle on top of the adaptive batch size (pure): at most `batchSize` rows per batch,
 * at most `rowsPerSecond` rows per second per shard (a batch never holds more than one second of them,
 * and the worker waits between batches until the rate is met), plus `pauseMs` between batches. And what
 * the run's control state tells a shard worker between two batches: go on, pause, or stop.
 */
import type { Throttle } from '@upshift/events/contract';

/** The largest batch the throttle allows (undefined: no limit). */
export function throttledBatchCap(throttle: Throttle | undefined): number | undefined {
  const caps = [throttle?.batchSize, throttle?.rowsPerSecond].filter((cap): cap is number => cap !== undefined);
  return caps.length === 0 ? undefined : Math.max(1, Math.min(...caps));
}

/** The batch size to run: what the adaptive controller asks for, at most the throttle's cap. */
export function cappedBatchSize(requested: number, throttle: Throttle | undefined): number {
  const cap = throttledBatchCap(throttle);
  return cap === undefined ? requested : Math.max(1, Math.min(requested, cap));
}

/** The last batch, as pacing sees it: rows it went through, when it was allowed to start and when it ended (epoch ms). */
export interface PacedBatch {
  rows: number;
  startedAt: number;
  endedAt: number;
}

/**
 * When the next batch may start: late enough that `rows` stay within `rowsPerSecond` counted from the
 * last batch's start, and `pauseMs` after its end; at once (its end) without a throttle.
 */
export function nextBatchAt(throttle: Throttle | undefined, batch: PacedBatch): number {
  const byRate = throttle?.rowsPerSecond === undefined ? batch.endedAt : batch.startedAt + Math.ceil((batch.rows * 1000) / throttle.rowsPerSecond);
  const byPause = batch.endedAt + (throttle?.pauseMs ?? 0);
  return Math.max(byRate, byPause);
}

/** What a shard worker does between two batches, from its run's status and control state. */
export type ShardGate = { kind: 'go' } | { kind: 'pause' } | { kind: 'stop'; why: string };

/**
 * Go on while the run runs and is not paused; pause (hand the shard over to a continuation, which the
 * paused run holds) when paused; stop when the run has ended (frozen, abandoned) — a rolling-back run's
 * shards are stopped by their restore instead (the step's status).
 */
export function shardGate(control: { status: string | undefined; paused: boolean }): ShardGate {
  if (control.status !== undefined && control.status !== 'running' && control.status !== 'rolling-back') {
    return { kind: 'stop', why: `the run has ended (${control.status})` };
  }
  return control.paused && control.status === 'running' ? { kind: 'pause' } : { kind: 'go' };
}
