/**
 * Shard boundary math (pure). A shard is a key range `[start, end)` with `null` meaning unbounded,
 * keys encoded as strings (as in the events' KeyRange). Boundaries come from sampled quantiles, so
 * shards are balanced by row count whatever the key distribution or type.
 */

/** A shard's key range: start inclusive, end exclusive, `null` = unbounded. */
export interface KeyRange {
  start: string | null;
  end: string | null;
}

/** The quantile fractions that split a key space into `count` shards: 1/n … (n-1)/n. */
export function quantileFractions(count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer, got ${count}`);
  return Array.from({ length: count - 1 }, (_, index) => (index + 1) / count);
}

/**
 * Ranges from sorted boundary keys: `[null, b1) [b1, b2) … [bk, null)`. Repeated boundaries (a tiny
 * table, a sample with few keys) are dropped, so there may be fewer ranges than requested, never empty ones.
 */
export function rangesFromBoundaries(boundaries: ReadonlyArray<string>): KeyRange[] {
  const distinct = boundaries.filter((key, index) => index === 0 || key !== boundaries[index - 1]);
  const edges: Array<string | null> = [null, ...distinct, null];
  return edges.slice(0, -1).map((start, index) => ({ start, end: edges[index + 1] ?? null }));
}

/** Distinct positions (0-based, in key order) of the boundary keys when `total` rows are split into `count` shards. */
export function boundaryPositions(total: number, count: number): number[] {
  const positions = quantileFractions(count).map((fraction) => Math.floor(fraction * total)).filter((position) => position > 0 && position < total);
  return [...new Set(positions)];
}

/**
 * The shard count for `auto`: enough shards that each holds about `rowsPerShard` rows, within [1, max].
 * 25k rows is about a second of PostgreSQL backfill and half a minute on the stack's FerretDB: small
 * enough to spread over workers and to restart cheaply, large enough that shard overhead stays small.
 */
export function autoShardCount(rowCount: number, rowsPerShard = 25_000, max = 64): number {
  return Math.min(max, Math.max(1, Math.ceil(rowCount / rowsPerShard)));
}

/** Largest over smallest shard size; 1 is perfect, 1.25 is the balance the plan promises. */
export function imbalance(counts: ReadonlyArray<number>): number {
  if (counts.length === 0) return 1;
  const smallest = Math.min(...counts);
  return smallest === 0 ? Number.POSITIVE_INFINITY : Math.max(...counts) / smallest;
}

/** The sampling rate (percent, for TABLESAMPLE) that yields about `sampleRows` of `estimatedRows`. */
export function samplePercent(estimatedRows: number, sampleRows: number): number {
  if (estimatedRows <= sampleRows) return 100;
  return Math.min(100, Math.max(0.0001, (100 * sampleRows) / estimatedRows));
}
