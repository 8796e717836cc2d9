/**
 * SQL text of the PostgreSQL engine, built only from catalog content: identifiers validated by the
 * catalog schema and quoted here with pg's `escapeIdentifier`; values always travel as parameters.
 */
import { createHash } from 'node:crypto';
import { escapeIdentifier } from 'pg';
import { derivedIdentifier } from '../catalog/identifiers.ts';
import type { PostgresMigration } from '../catalog/load.ts';
import type { KeyRange } from '../core/shards.ts';

/** Key column types the engine pages over (a single-column primary key). */
export const supportedKeyTypes = ['integer', 'bigint', 'uuid', 'text'] as const;
/** One of the supported key column types. */
export type KeyType = (typeof supportedKeyTypes)[number];

/** The schema holding every backup table. */
export const backupSchema = 'upshift_backup';

/** The table of a store's restore findings (conflicts, deleted and created rows), one row per run, migration, key and column. */
export const conflictsTable = 'upshift_conflicts';

/**
 * A column the migration changes: quoted for SQL, named for reports, the backup column that holds what
 * the migration wrote to it (`<column>__written`), and whether its type has an equality (else values are
 * compared as text).
 */
export interface ChangedColumn {
  quoted: string;
  name: string;
  written: string;
  comparable: boolean;
}

/** What the statements of one migration are built from: quoted names plus the key type for casts. */
export interface TableModel {
  table: string;
  key: string;
  keyType: KeyType;
  /** The columns the backfill changes (its `set` targets and the marker): the only ones backed up and restored. */
  changed: ChangedColumn[];
  backupTable: string;
}

/** The columns a migration changes: the backfill's `set` targets and the marker column, sorted by name (positions never depend on YAML order). */
export function changedColumns(migration: PostgresMigration, comparable: (name: string) => boolean = () => true): ChangedColumn[] {
  const names = new Set(Object.keys(migration.backfill.set));
  if ('column' in migration.marker) names.add(migration.marker.column);
  return [...names].sort().map((name) => ({
    quoted: escapeIdentifier(name), name, comparable: comparable(name),
    written: escapeIdentifier(derivedIdentifier([name, 'written'], (text) => createHash('sha256').update(text).digest('hex'))),
  }));
}

/** `a IS NOT DISTINCT FROM b` for a changed column's values (as text when its type has no equality). */
export function sameValue(column: ChangedColumn, left: string, right: string): string {
  return column.comparable ? `${left} IS NOT DISTINCT FROM ${right}` : `${left}::text IS NOT DISTINCT FROM ${right}::text`;
}

/** Quoted `schema.table` of the migration. */
export function qualifiedTable(migration: PostgresMigration): string {
  return `${escapeIdentifier(migration.schema)}.${escapeIdentifier(migration.table)}`;
}

/** Name of the backup table of a migration: `upshift_backup.<table>__<name>__v<version>` (≤ 63 bytes). */
export function backupTableName(migration: PostgresMigration): string {
  return derivedIdentifier([migration.table, migration.name, `v${migration.version}`], (text) => createHash('sha256').update(text).digest('hex'));
}

/** Collects positional parameters while a statement is built. */
export class Parameters {
  readonly values: unknown[] = [];
  /** Adds a value and returns its placeholder, cast when `cast` is given. */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

/** The predicate of rows not yet migrated: marker at `from` (or the guard), plus the backfill's `where`. */
export function pendingPredicate(migration: PostgresMigration, params: Parameters): string {
  const marker = 'column' in migration.marker
    ? `${escapeIdentifier(migration.marker.column)} = ${params.add(migration.marker.from)}`
    : `(${migration.marker.guard})`;
  return migration.backfill.where ? `${marker} AND (${migration.backfill.where})` : marker;
}

/** The key conditions of a page: after the checkpoint (or from the start), before the end, up to the ceiling. */
export function keyConditions(model: TableModel, range: KeyRange, after: string | null, ceiling: string | null, params: Parameters): string[] {
  const { key, keyType } = model;
  const conditions: string[] = [];
  if (after !== null) conditions.push(`${key} > ${params.add(after, keyType)}`);
  else if (range.start !== null) conditions.push(`${key} >= ${params.add(range.start, keyType)}`);
  if (range.end !== null) conditions.push(`${key} < ${params.add(range.end, keyType)}`);
  if (ceiling !== null) conditions.push(`${key} <= ${params.add(ceiling, keyType)}`);
  return conditions;
}

/** `SET a = (expr), …` plus the marker, when the migration has one. */
export function assignments(migration: PostgresMigration, params: Parameters): string {
  const set = Object.entries(migration.backfill.set).map(([column, expression]) => `${escapeIdentifier(column)} = (${expression})`);
  if ('column' in migration.marker) set.push(`${escapeIdentifier(migration.marker.column)} = ${params.add(migration.marker.to)}`);
  return set.join(', ');
}

/** Inputs of one batch statement. */
export interface BatchStatementInput {
  migration: PostgresMigration;
  model: TableModel;
  range: KeyRange;
  after: string | null;
  ceiling: string | null;
  batchSize: number;
  backup: boolean;
}

/**
 * One batch as one statement, run in a REPEATABLE READ transaction: the page of keys (keyset
 * pagination), the UPDATE of its pending rows guarded by the marker, and a backup row per changed row:
 * the pre-image of the changed columns (read from the statement's snapshot) and what the UPDATE wrote
 * to them (its RETURNING). Every part sees one snapshot, so the backup holds exactly the versions the
 * UPDATE replaced; a row changed by someone else since that snapshot makes the UPDATE fail with a
 * serialization error (40001), the batch rolls back whole and is retried smaller — an application write
 * is never overwritten. A backup row of a key already there is replaced: it describes the latest write.
 * Both parts scan the page by key range (an index range scan): measured on 2M rows, joining the UPDATE
 * to the backed-up keys instead, or locking them FOR UPDATE under READ COMMITTED, made the backfill with
 * backup 1.4–2.1× slower.
 */
export function batchStatement(input: BatchStatementInput): { text: string; values: unknown[] } {
  const { migration, model, range, after, ceiling, batchSize, backup } = input;
  const params = new Parameters();
  const keyRange = keyConditions(model, range, after, ceiling, params);
  const limit = params.add(batchSize, 'integer');
  const pageWhere = keyRange.length > 0 ? `WHERE ${keyRange.join(' AND ')}` : '';
  const inPage = [...keyRange, `${model.key} <= (SELECT last FROM bounds)`];
  const pending = pendingPredicate(migration, params);
  const set = assignments(migration, params);
  const ctes = [
    `page AS (SELECT ${model.key} FROM ${model.table} ${pageWhere} ORDER BY ${model.key} LIMIT ${limit})`,
    `bounds AS (SELECT (SELECT ${model.key} FROM page ORDER BY ${model.key} DESC LIMIT 1) AS last, (SELECT count(*)::integer FROM page) AS scanned)`,
  ];
  if (backup) {
    const columns = model.changed.map((column) => column.quoted);
    const written = model.changed.map((column) => column.written);
    ctes.push(`target AS (SELECT ${[model.key, ...columns].join(', ')} FROM ${model.table} WHERE ${inPage.join(' AND ')} AND ${pending})`);
    ctes.push(`changed AS (UPDATE ${model.table} SET ${set} WHERE ${inPage.join(' AND ')} AND ${pending}
      RETURNING ${[model.key, ...model.changed.map((column) => `${column.quoted} AS ${column.written}`)].join(', ')})`);
    const replace = [...columns, ...written].map((column) => `${column} = EXCLUDED.${column}`).join(', ');
    ctes.push(`saved AS (INSERT INTO ${model.backupTable} (${[model.key, ...columns, ...written].join(', ')})
      SELECT ${[...[model.key, ...columns].map((column) => `target.${column}`), ...written.map((column) => `changed.${column}`)].join(', ')}
        FROM target JOIN changed ON changed.${model.key} = target.${model.key}
      ON CONFLICT (${model.key}) DO UPDATE SET ${replace})`);
  } else {
    ctes.push(`changed AS (UPDATE ${model.table} SET ${set} WHERE ${inPage.join(' AND ')} AND ${pending} RETURNING 1)`);
  }
  const text = `WITH ${ctes.join(',\n')}\nSELECT (SELECT last::text FROM bounds) AS last_key, (SELECT scanned FROM bounds) AS scanned, (SELECT count(*)::integer FROM changed) AS changed`;
  return { text, values: params.values };
}
