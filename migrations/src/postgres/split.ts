/**
 * Splitting a PostgreSQL key space by sampled quantiles: `percentile_disc` over a row-level
 * (BERNOULLI) sample, so shards are balanced by row count for skewed and non-integer keys alike.
 */
import type pg from 'pg';
import { quantileFractions, rangesFromBoundaries, samplePercent } from '../core/shards.ts';
import type { KeyRange } from '../core/shards.ts';
import type { TableModel } from './sql.ts';

/** Rows to sample: enough that each boundary's error is well under 1 % of the table. */
export const defaultSampleRows = 60_000;

/** The planner's row estimate, or an exact count when the table was never analyzed. */
export async function estimateRows(client: pg.ClientBase, model: TableModel): Promise<number> {
  const estimate = await client.query<{ rows: number }>(`SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = $1::regclass`, [model.table]);
  const rows = estimate.rows[0]?.rows ?? -1;
  if (rows >= 0) return Math.round(rows);
  const counted = await client.query<{ rows: number }>(`SELECT count(*)::float8 AS rows FROM ${model.table}`);
  return counted.rows[0]?.rows ?? 0;
}

/** Ranges of at most `count` shards with about equal row counts. */
export async function splitByQuantiles(client: pg.ClientBase, model: TableModel, count: number, sampleRows = defaultSampleRows): Promise<KeyRange[]> {
  if (count <= 1) return [{ start: null, end: null }];
  const percent = samplePercent(await estimateRows(client, model), sampleRows);
  const sample = percent >= 100 ? '' : `TABLESAMPLE BERNOULLI (${percent}) REPEATABLE (1)`;
  const result = await client.query<{ boundary: string | null }>(
    `SELECT boundary::text AS boundary FROM unnest((SELECT percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY ${model.key}) FROM ${model.table} ${sample}))
       WITH ORDINALITY AS q(boundary, position) ORDER BY position`,
    [quantileFractions(count)],
  );
  const boundaries = result.rows.map((row) => row.boundary).filter((boundary): boundary is string => boundary !== null);
  return rangesFromBoundaries(boundaries);
}
