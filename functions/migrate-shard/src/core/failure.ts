/**
 * How a failed batch is treated and told (pure). Engine errors carry a code: pushed back and
 * unreachable stores are retried by delivery; anything else is a permanent domain failure of the shard,
 * reported in `shard.failed` with the row and the database's own words.
 */
import type { ShardFailure } from './shard-state.ts';

/** What to do about a batch error with engine code `code` (undefined: not an engine error). */
export type BatchErrorVerdict = 'retry-later' | 'isolate-row' | 'fail-shard';

/** Engine codes a retry may fix (the store pushed back or could not be reached). */
const transient = new Set(['THROTTLED', 'UNAVAILABLE']);

/** Engine codes about one row: the page is narrowed down to that row before the shard fails. */
const rowLevel = new Set(['STORE_REJECTED', 'TRANSFORM_FAILED']);

/** The verdict for an engine error code; rejected rows are narrowed down to the row first. */
export function batchErrorVerdict(code: string | undefined): BatchErrorVerdict {
  if (code === undefined || transient.has(code)) return 'retry-later';
  return rowLevel.has(code) ? 'isolate-row' : 'fail-shard';
}

/** The next step of narrowing a failing page down to its first failing row (bisection by batch size). */
export interface Isolation {
  /** Rows after the checkpoint known to contain the failing one. */
  window: number;
  /** Size of the next batch to try. */
  size: number;
}

/** Start: the failing batch of `batchSize` rows holds the culprit; try its first half. */
export function startIsolation(batchSize: number): Isolation {
  const window = Math.max(1, batchSize);
  return { window, size: Math.max(1, Math.floor(window / 2)) };
}

/**
 * After a batch of `size` committed, the culprit is in the rest of the window; after a failure, in those
 * `size` rows. A window of 0 means the failure went away (a concurrent fix): resume normal batches.
 */
export function nextIsolation(current: Isolation, succeeded: boolean): Isolation {
  const window = succeeded ? Math.max(0, current.window - current.size) : current.size;
  const size = succeeded ? Math.min(current.size, window) : Math.max(1, Math.floor(window / 2));
  return { window, size };
}

/** The isolation is over when a one-row batch failed: that row is the culprit. */
export function isolated(current: Isolation, succeeded: boolean): boolean {
  return !succeeded && current.size === 1;
}

/** The `reason` of `shard.failed` (≤ 2000 characters): the row, the database error, the checkpoint. */
export function failureReason(shardId: string, failure: ShardFailure): string {
  const row = failure.keyKnown
    ? `row ${failure.key}`
    : failure.key === null ? 'the first row of the shard' : `the first row after key ${failure.key}`;
  const checkpoint = failure.lastKey === null ? 'no row committed yet' : `last committed key ${failure.lastKey}`;
  const text = `shard ${shardId}: ${row} cannot be migrated: ${failure.error} (${checkpoint})`;
  return text.length <= 2000 ? text : `${text.slice(0, 1997)}...`;
}
