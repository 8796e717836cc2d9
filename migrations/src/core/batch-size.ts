/**
 * The adaptive batch-size controller (pure): size the next batch so one batch takes about `targetMs` —
 * short transactions, no long locks. It fits batch time ≈ fixedMs + perRowMs × rows to the recent
 * batches (a robust line: one batch slowed by a noisy neighbour does not move it) and picks the size the
 * line says hits the target. A store with a large fixed cost per batch (FerretDB: several round trips,
 * and waits behind other shards' writes, whatever the batch holds) so gets bigger batches, not smaller:
 * where the fixed cost reaches half the target, no size can meet it, and the batch's rows get as much
 * time as the fixed cost (half of every batch is work), at most (`maxStretch` − 1) targets. Steps are
 * bounded, and the size is dithered ±`dither` around its aim so the line stays measurable once settled.
 * A line that says rows cost nothing, or that the last batch belies (it took over twice what the line
 * predicts), is not followed: the step is then proportional (time ∝ size), which shrinks a slow batch.
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

/** What one batch did. */
export interface BatchObservation {
  /** The size the controller asked for (a throttle may have run fewer rows). */
  batchSize: number;
  durationMs: number;
  /** Rows the batch looked at: the rows the time was spent on. */
  scanned: number;
}

/** How a store's batch time grows with the batch: `fixedMs + perRowMs × rows`. */
export interface BatchTimeModel {
  fixedMs: number;
  perRowMs: number;
}

/** Batches the fit looks back on. */
export const batchHistoryLength = 8;
/** Where the fixed cost is large, a batch's rows may take up to this many targets less one. */
export const maxStretch = 4;
/** The size alternates this far (±) around its aim, so the fit sees batches of different sizes. */
export const dither = 0.15;
/** Two batches whose sizes differ less than this factor say nothing about the cost per row. */
const minSpread = 1.1;

/** The recent batches with `batch` added, at most `batchHistoryLength`, oldest first. */
export function rememberBatch(recent: readonly BatchObservation[], batch: BatchObservation): BatchObservation[] {
  return [...recent, batch].slice(-batchHistoryLength);
}

/**
 * The line through the recent batches (Theil–Sen: the median of the slopes between pairs of batches of
 * different sizes, the median intercept), or undefined when fewer than three batches of different sizes
 * say how the time grows. The fixed cost is never negative; a slope ≤ 0 means the time did not grow
 * with the size within the noise.
 */
export function fitBatchTime(recent: readonly BatchObservation[]): BatchTimeModel | undefined {
  const points = recent.filter((batch) => batch.scanned > 0);
  const slopes: number[] = [];
  for (const [i, a] of points.entries()) {
    for (const b of points.slice(i + 1)) {
      if (Math.max(a.scanned, b.scanned) / Math.min(a.scanned, b.scanned) >= minSpread) slopes.push((b.durationMs - a.durationMs) / (b.scanned - a.scanned));
    }
  }
  if (points.length < 3 || slopes.length < 2) return undefined;
  const perRowMs = median(slopes);
  const fixedMs = Math.max(0, median(points.map((batch) => batch.durationMs - perRowMs * batch.scanned)));
  return { fixedMs, perRowMs };
}

/**
 * The rows a batch should hold by `model`: as many as take the target with the fixed cost, or — with a
 * fixed cost over half the target — as many as take as long as the fixed cost, at most
 * (`maxStretch` − 1) targets; Infinity when rows cost nothing.
 */
export function rowsForTarget(model: BatchTimeModel, targetMs: number): number {
  if (model.perRowMs <= 0) return Number.POSITIVE_INFINITY;
  const rowsMs = Math.min((maxStretch - 1) * targetMs, Math.max(targetMs - model.fixedMs, model.fixedMs));
  return rowsMs / model.perRowMs;
}

/**
 * The size of the next batch from the recent batches (oldest first; the last one ran at the current
 * size). Without a line yet, a proportional step from the last batch (time ∝ size), damped.
 */
export function nextBatchSize(recent: readonly BatchObservation[], limits: BatchSizeLimits = defaultBatchSizeLimits): number {
  const last = recent.at(-1);
  if (!last) return limits.min;
  const clamp = (size: number) => Math.min(limits.max, Math.max(limits.min, Math.round(size)));
  const model = fitBatchTime(recent);
  if (!model || !explains(model, last, limits.targetMs)) return clamp(last.batchSize * proportionalFactor(last, limits));
  const aim = rowsForTarget(model, limits.targetMs);
  const factor = Math.min(limits.maxGrowth, Math.max(limits.maxShrink, aim / last.batchSize));
  const size = last.batchSize * factor;
  // Dither around a settled aim: alternately above and below it, so the next fits still see a spread.
  if (factor >= limits.maxGrowth || factor <= limits.maxShrink) return clamp(size);
  return clamp(last.batchSize >= aim ? size * (1 - dither) : size * (1 + dither));
}

/**
 * Whether the line can be trusted with the next size: it says rows cost something (a flat or falling
 * line is noise, and would grow batches without bound), and the last batch took at most twice what it
 * predicts (or the target): a store that became slower, or a line fitted to noise, falls back to the
 * proportional step, which shrinks.
 */
function explains(model: BatchTimeModel, last: BatchObservation, targetMs: number): boolean {
  return model.perRowMs > 0 && last.durationMs <= 2 * Math.max(targetMs, model.fixedMs + model.perRowMs * last.scanned);
}

/** The damped step of a controller that assumes time ∝ size; none for a short, fast last page (it says nothing about speed). */
function proportionalFactor(last: BatchObservation, limits: BatchSizeLimits): number {
  if (last.scanned < last.batchSize && last.durationMs < limits.targetMs) return 1;
  const factor = Math.min(limits.maxGrowth, Math.max(limits.maxShrink, limits.targetMs / Math.max(1, last.durationMs)));
  // Move 70 % of the way in log space, so sizes settle instead of oscillating.
  return Math.exp(Math.log(factor) * 0.7);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The size to retry with after the database pushed back (lock or statement timeout): half, at least `min`. */
export function throttledBatchSize(batchSize: number, limits: BatchSizeLimits = defaultBatchSizeLimits): number {
  return Math.max(limits.min, Math.floor(batchSize / 2));
}

/** How long to wait before retrying after the `attempt`-th push-back in a row (exponential, capped at 5 s). */
export function throttleDelayMs(attempt: number): number {
  return Math.min(5000, 100 * 2 ** Math.max(0, attempt - 1));
}
