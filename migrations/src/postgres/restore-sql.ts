/**
 * SQL of the guarded restore. A backup row holds, for the columns the migration changed, their
 * pre-image and what the migration wrote (`<column>__written`). A restore page puts a column back only
 * where it still holds what the migration wrote; a column the application changed since is a conflict,
 * decided by `down.conflicts` and recorded with the deleted rows in `upshift_backup.upshift_conflicts`.
 * A column the migration never changed is never written. Values compare with IS NOT DISTINCT FROM (as
 * text for a type without equality); findings carry them as jsonb.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';
import type { PostgresMigration } from '../catalog/load.ts';
import type { ConflictRule } from '../engine.ts';
import type { KeyRange } from '../core/shards.ts';
import { backupSchema, conflictsTable, keyConditions, Parameters, sameValue } from './sql.ts';
import type { ChangedColumn, TableModel } from './sql.ts';

/** `upshift_backup.upshift_conflicts`, quoted. */
export const qualifiedConflictsTable = `${backupSchema}.${conflictsTable}`;

/** Who a restore records its findings for. */
export interface FindingOwner {
  runId: string;
  shardId: string;
  migration: string;
}

/** `{column: value, …}` of the changed columns as jsonb, for the findings (`<prefix><column>` per column). */
function changedAsJson(model: TableModel, value: (column: ChangedColumn) => string): string {
  return `jsonb_build_object(${model.changed.map((column) => `${escapeLiteral(column.name)}, ${value(column)}`).join(', ')})`;
}

/**
 * One restore page, for a REPEATABLE READ transaction: the next backed-up rows of the range, each
 * compared once with its current row, column by column (now `f`, what the migration wrote `w`, the
 * pre-image `p`; aliases prefixed `upshift_` so no table column can clash); the findings among them (a changed column that holds neither what the migration wrote
 * nor its pre-image, or a row deleted since) inserted once into the conflicts table; then the UPDATE of
 * the rows that have something to put back, column by column. The decisions come from the statement's
 * snapshot: the UPDATE finds each row by the ctid it was compared at (no second index lookup), and a
 * row changed by someone else since that snapshot fails the page with 40001 (retried smaller), so an
 * application write is never overwritten.
 */
export function restorePageStatement(model: TableModel, rule: ConflictRule, owner: FindingOwner, range: KeyRange, after: string | null, pageSize: number): { text: string; values: unknown[] } {
  const params = new Parameters();
  const conditions = keyConditions(model, range, after, null, params);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const key = model.key;
  const changed = model.changed.map((column, i) => ({ column, f: `c.upshift_f${i}`, w: `c.upshift_w${i}`, p: `c.upshift_p${i}` }));
  const decision = rule === 'restore' ? 'restored' : 'kept';
  const putBack = ({ column, f, w, p }: (typeof changed)[number]) => rule === 'restore'
    ? `NOT (${sameValue(column, f, p)})`
    : `(${sameValue(column, f, w)} AND NOT (${sameValue(column, f, p)}))`;
  const owned = `${params.add(owner.runId)}, ${params.add(owner.shardId)}, ${params.add(owner.migration)}`;
  const selected = [key, ...model.changed.flatMap((column) => [column.quoted, column.written])];
  const compared = model.changed.map((column, i) => `t.${column.quoted} AS upshift_f${i}, p.${column.written} AS upshift_w${i}, p.${column.quoted} AS upshift_p${i}`);
  const conflicts = changed.map(({ column, f, w, p }) => `SELECT c.${key}::text, ${escapeLiteral(column.name)}, 'changed', '${decision}', to_jsonb(${w}), to_jsonb(${f})
    FROM compared c WHERE NOT c.upshift_gone AND NOT (${sameValue(column, f, w)}) AND NOT (${sameValue(column, f, p)})`);
  const text = `WITH page AS (SELECT ${selected.join(', ')} FROM ${model.backupTable} ${where} ORDER BY ${key} LIMIT ${params.add(pageSize, 'integer')}),
compared AS MATERIALIZED (SELECT p.${key}, t.ctid AS upshift_tid, t.${key} IS NULL AS upshift_gone, ${compared.join(', ')}
  FROM page p LEFT JOIN LATERAL (SELECT ctid, ${[key, ...model.changed.map((column) => column.quoted)].join(', ')} FROM ${model.table} t WHERE t.${key} = p.${key} LIMIT 1) t ON true),
findings AS (
  SELECT c.${key}::text AS key, '*' AS column_name, 'deleted' AS kind, 'kept' AS decision, ${changedAsJson(model, (column) => `c.upshift_w${model.changed.indexOf(column)}`)} AS written, NULL::jsonb AS found
    FROM compared c WHERE c.upshift_gone
  UNION ALL ${conflicts.join('\n  UNION ALL ')}),
recorded AS (INSERT INTO ${qualifiedConflictsTable} (run_id, shard_id, migration, key, column_name, kind, decision, written, found)
  SELECT ${owned}, key, column_name, kind, decision, written, found FROM findings
  ON CONFLICT (run_id, migration, key, column_name) DO NOTHING),
restored AS (UPDATE ${model.table} t SET ${changed.map((entry) => `${entry.column.quoted} = CASE WHEN ${putBack(entry)} THEN ${entry.p} ELSE t.${entry.column.quoted} END`).join(', ')}
  FROM compared c WHERE t.ctid = c.upshift_tid AND NOT c.upshift_gone AND (${changed.map(putBack).join(' OR ')})
  RETURNING 1)
SELECT (SELECT ${key} FROM page ORDER BY ${key} DESC LIMIT 1)::text AS last_key, (SELECT count(*)::integer FROM page) AS paged,
  (SELECT count(*)::integer FROM restored) AS restored`;
  return { text, values: params.values };
}

/**
 * One page of rows of the range at the new version that the run did not migrate (marker at `to`, no
 * backup row): the new version created them. With `down.set` they are brought back to the old form
 * (marker back to `from`); either way each is recorded once as a `created` finding. Undefined for a
 * guard marker: without a marker column a created row cannot be told from an untouched one.
 */
export function createdPageStatement(migration: PostgresMigration, model: TableModel, owner: FindingOwner, range: KeyRange, after: string | null, pageSize: number): { text: string; values: unknown[] } | undefined {
  if (!('column' in migration.marker)) return undefined;
  const params = new Parameters();
  const marker = escapeIdentifier(migration.marker.column);
  const conditions = keyConditions(model, range, after, null, params).map((condition) => `t.${condition}`);
  const atTo = `t.${marker} = ${params.add(migration.marker.to)}`;
  const owned = `${params.add(owner.runId)}, ${params.add(owner.shardId)}, ${params.add(owner.migration)}`;
  const down = migration.down.set;
  const candidates = `SELECT t.${model.key}, ${changedAsJson(model, (column) => `t.${column.quoted}`)} AS found FROM ${model.table} t
    WHERE ${[...conditions, atTo, `NOT EXISTS (SELECT 1 FROM ${model.backupTable} b WHERE b.${model.key} = t.${model.key})`].join(' AND ')}
    ORDER BY t.${model.key} LIMIT ${params.add(pageSize, 'integer')}`;
  const assignments = down === undefined ? [] : [...Object.entries(down).map(([column, expression]) => `${escapeIdentifier(column)} = (${expression})`), `${marker} = ${params.add(migration.marker.from)}`];
  const revert = assignments.length === 0 ? '' : `,
reverted AS (UPDATE ${model.table} t SET ${assignments.join(', ')} FROM page p WHERE t.${model.key} = p.${model.key} AND ${atTo} RETURNING 1)`;
  const text = `WITH page AS (${candidates}),
recorded AS (INSERT INTO ${qualifiedConflictsTable} (run_id, shard_id, migration, key, column_name, kind, decision, written, found)
  SELECT ${owned}, p.${model.key}::text, '*', 'created', '${down === undefined ? 'left' : 'reverted'}', NULL, p.found FROM page p
  ON CONFLICT (run_id, migration, key, column_name) DO NOTHING)${revert}
SELECT (SELECT ${model.key} FROM page ORDER BY ${model.key} DESC LIMIT 1)::text AS last_key, (SELECT count(*)::integer FROM page) AS paged, 0 AS restored`;
  return { text, values: params.values };
}

/** `upshift_backup.upshift_restore_progress`: one row per run, shard and migration (see core/restore-progress.ts). */
export const qualifiedProgressTable = `${backupSchema}.upshift_restore_progress`;

/** The tables of findings and restore progress, shared by every migration of the database (idempotent DDL). */
export const restoreTablesDdl = [
  `CREATE TABLE IF NOT EXISTS ${qualifiedConflictsTable} (
    run_id text NOT NULL, shard_id text NOT NULL, migration text NOT NULL, key text NOT NULL, column_name text NOT NULL,
    kind text NOT NULL, decision text NOT NULL, written jsonb, found jsonb, recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, migration, key, column_name))`,
  `CREATE INDEX IF NOT EXISTS upshift_conflicts_by_shard ON ${qualifiedConflictsTable} (run_id, shard_id)`,
  `CREATE TABLE IF NOT EXISTS ${qualifiedProgressTable} (
    run_id text NOT NULL, shard_id text NOT NULL, migration text NOT NULL, phase text NOT NULL, last_key text, restored bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, shard_id, migration))`,
];
