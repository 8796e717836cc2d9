/**
 * Reading a table's shape from the catalog of the target database, and checking a migration against
 * it (preflight): the key, the columns it assigns, the expressions, the guard. Nothing here changes data.
 */
import { escapeIdentifier } from 'pg';
import type pg from 'pg';
import type { PostgresMigration } from '../catalog/load.ts';
import type { PreflightProblem } from '../engine.ts';
import { pendingPredicate, qualifiedTable, supportedKeyTypes, Parameters } from './sql.ts';
import type { KeyType } from './sql.ts';

/** A column as the database has it. */
export interface ColumnInfo {
  name: string;
  type: string;
  generated: boolean;
}

/** The shape of a table: its columns in order and its primary key columns. */
export interface TableShape {
  exists: boolean;
  columns: ColumnInfo[];
  primaryKey: string[];
}

/** Reads a table's columns and primary key (an absent table has `exists: false`). */
export async function readTableShape(client: pg.ClientBase, schema: string, table: string): Promise<TableShape> {
  const columns = await client.query<{ name: string; type: string; generated: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [schema, table]);
  const key = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
      WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary ORDER BY k.position`, [schema, table]);
  return { exists: columns.rows.length > 0, columns: columns.rows, primaryKey: key.rows.map((row) => row.name) };
}

/**
 * The key's type if it is the table's single-column primary key of a supported type, else the problem,
 * naming the table (`table` is `schema.table`): upshift pages and splits shards over one key column.
 */
export function keyTypeOf(shape: TableShape, key: string, table: string): KeyType | PreflightProblem {
  const primaryKey = shape.primaryKey;
  if (primaryKey.length === 0) return { path: 'key', message: `table ${table} has no primary key; upshift pages over a single-column primary key` };
  if (primaryKey.length > 1) {
    return { path: 'key', message: `table ${table} has a composite primary key (${primaryKey.join(', ')}); upshift pages over a single-column key` };
  }
  if (primaryKey[0] !== key) return { path: 'key', message: `${key} is not the primary key of table ${table} (its primary key is ${primaryKey[0]})` };
  const type = shape.columns.find((column) => column.name === key)?.type;
  const supported = supportedKeyTypes.find((candidate) => candidate === type);
  return supported ?? { path: 'key', message: `${key} of table ${table} has type ${type}; supported key types are ${supportedKeyTypes.join(', ')}` };
}

/** Problems of names: every column the migration uses must exist or be added by `expand`. */
export function columnProblems(migration: PostgresMigration, shape: TableShape): PreflightProblem[] {
  const table = `${migration.schema}.${migration.table}`;
  if (!shape.exists) return [{ path: 'table', message: `table ${table} does not exist` }];
  const existing = new Map(shape.columns.map((column) => [column.name, column]));
  const added = new Set(migration.expand.addColumns.map((column) => column.name));
  const known = (name: string) => existing.has(name) || added.has(name);
  const problems: PreflightProblem[] = [];
  const keyType = keyTypeOf(shape, migration.key, table);
  if (typeof keyType !== 'string') problems.push(keyType);
  const unknown = (path: string, name: string) => problems.push({ path, message: `column ${name} does not exist in ${table} and expand does not add it` });
  for (const column of Object.keys(migration.backfill.set)) if (!known(column)) unknown(`backfill.set.${column}`, column);
  for (const column of Object.keys(migration.down.set ?? {})) if (!known(column)) unknown(`down.set.${column}`, column);
  if ('column' in migration.marker && !known(migration.marker.column)) unknown('marker.column', migration.marker.column);
  migration.expand.createIndexes.forEach((index, i) => index.columns.forEach((column, j) => {
    if (!known(column)) unknown(`expand.createIndexes[${i}].columns[${j}]`, column);
  }));
  migration.contract.dropColumns.forEach((column, i) => { if (!known(column)) unknown(`contract.dropColumns[${i}]`, column); });
  migration.contract.setNotNull.forEach((column, i) => { if (!known(column)) unknown(`contract.setNotNull[${i}]`, column); });
  migration.expand.addColumns.forEach((column, i) => {
    const found = existing.get(column.name);
    if (found && found.type !== column.type) problems.push({ path: `expand.addColumns[${i}].type`, message: `column ${column.name} already exists with type ${found.type}` });
  });
  return problems;
}

/**
 * Problems of expressions: each assignment, the guard and the `where` are evaluated by the database
 * against the table as it will be after `expand` (added columns as typed NULLs), with LIMIT 0, inside a
 * read-only transaction that is rolled back.
 */
export async function expressionProblems(client: pg.ClientBase, migration: PostgresMigration, shape: TableShape): Promise<PreflightProblem[]> {
  const existing = new Set(shape.columns.map((column) => column.name));
  const typeOf = new Map([...shape.columns.map((c) => [c.name, c.type] as const), ...migration.expand.addColumns.map((c) => [c.name, c.type] as const)]);
  const extra = migration.expand.addColumns.filter((column) => !existing.has(column.name))
    .map((column) => `, NULL::${column.type} AS ${escapeIdentifier(column.name)}`).join('');
  const from = `(SELECT *${extra} FROM ${qualifiedTable(migration)}) AS ${escapeIdentifier(migration.table)}`;
  const checks: Array<{ path: string; sql: string; values: unknown[] }> = [];
  const pendingParams = new Parameters();
  const pending = pendingPredicate(migration, pendingParams);
  checks.push({ path: 'column' in migration.marker ? 'marker' : 'marker.guard', sql: `SELECT 1 FROM ${from} WHERE ${pending} LIMIT 0`, values: pendingParams.values });
  for (const [section, set] of [['backfill', migration.backfill.set], ['down', migration.down.set ?? {}]] as const) {
    for (const [column, expression] of Object.entries(set)) {
      checks.push({ path: `${section}.set.${column}`, sql: `SELECT CAST((${expression}) AS ${typeOf.get(column) ?? 'text'}) FROM ${from} LIMIT 0`, values: [] });
    }
  }
  const problems: PreflightProblem[] = [];
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SET LOCAL statement_timeout = '10s'`);
    for (const check of checks) {
      await client.query('SAVEPOINT check_expression');
      try {
        await client.query(check.sql, check.values);
        await client.query('RELEASE SAVEPOINT check_expression');
      } catch (error) {
        problems.push({ path: check.path, message: (error as Error).message });
        await client.query('ROLLBACK TO SAVEPOINT check_expression');
      }
    }
  } finally {
    await client.query('ROLLBACK');
  }
  return problems;
}
