/**
 * The adaptive batch-size controller (pure): grow or shrink the next batch so one batch takes about
 * `targetMs` — short transactions, no long locks — with bounded steps so one noisy batch cannot swing it.
 */

/** Bounds and target of the controller. */
export interface BatchSizeLimits {
  targetMs: number;
  min: number;
  max: number;
  /** Largest growth factor per step (shrinking is allowed to be sharper). */
  maxGrowth: number;
  /** Smallest factor per step. */
  maxShrink: number;
}

/** Target 200 ms per batch, between 10 and 50 000 rows, at most ×2 up or ×¼ down per batch. */
export const defaultBatchSizeLimits: BatchSizeLimits = { targetMs: 200, min: 10, max: 50_000, maxGrowth: 2, maxShrink: 0.25 };

/** What the last batch did. */
export interface BatchObservation {
  batchSize: number;
  durationMs: number;
  /** Rows the batch looked at; a short last page says nothing about speed. */
  scanned: number;
}

/** The size of the next batch after observing the last one. */
export function nextBatchSize(last: BatchObservation, limits: BatchSizeLimits = defaultBatchSizeLimits): number {
  const clamp = (size: number) => Math.min(limits.max, Math.max(limits.min, Math.round(size)));
  if (last.scanned < last.batchSize && last.durationMs < limits.targetMs) return clamp(last.batchSize);
  const duration = Math.max(1, last.durationMs);
  const factor = Math.min(limits.maxGrowth, Math.max(limits.maxShrink, limits.targetMs / duration));
  // Dampen: move 70 % of the way in log space, so sizes settle instead of oscillating.
  const damped = Math.exp(Math.log(factor) * 0.7);
  return clamp(last.batchSize * damped);
}

/** The size to retry with after the database pushed back (lock or statement timeout): half, at least `min`. */
export function throttledBatchSize(batchSize: number, limits: BatchSizeLimits = defaultBatchSizeLimits): number {
  return Math.max(limits.min, Math.floor(batchSize / 2));
}

/** How long to wait before retrying after the `attempt`-th push-back in a row (exponential, capped at 5 s). */
export function throttleDelayMs(attempt: number): number {
  return Math.min(5000, 100 * 2 ** Math.max(0, attempt - 1));
}
