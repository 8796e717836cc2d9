/**
 * Cross-field rules of a migration file that a per-field schema cannot express (pure): what the
 * backfill may assign, and paths that MongoDB would reject as conflicting in one update.
 */
import type { MongoMigrationFile, PostgresMigrationFile } from './schema.ts';
import { deniedFunctionCalls } from './sql-guard.ts';
import type { SqlFragmentKind } from './sql-guard.ts';

/** A problem at a field path of one migration file. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Rules of a PostgreSQL migration: the key and the marker are never assigned, added columns unique. */
export function postgresRuleIssues(file: PostgresMigrationFile): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [section, set] of [['backfill', file.backfill.set], ['down', file.down.set ?? {}]] as const) {
    const assigned = Object.keys(set);
    if (assigned.includes(file.key)) issues.push({ path: `${section}.set.${file.key}`, message: 'the key column must not be assigned' });
    if ('column' in file.marker && assigned.includes(file.marker.column)) {
      issues.push({ path: `${section}.set.${file.marker.column}`, message: 'the version marker is set by upshift; do not assign it' });
    }
  }
  if ('column' in file.marker && file.marker.from === file.marker.to) issues.push({ path: 'marker.to', message: 'must differ from marker.from' });
  if (file.down.set !== undefined && !('column' in file.marker)) {
    issues.push({ path: 'down.set', message: 'needs a marker column: with a guard upshift cannot tell the rows the new version created' });
  }
  const seen = new Set<string>();
  file.expand.addColumns.forEach((column, index) => {
    if (seen.has(column.name)) issues.push({ path: `expand.addColumns[${index}].name`, message: `column ${column.name} is added twice` });
    seen.add(column.name);
  });
  if (file.trusted !== true) issues.push(...deniedCallIssues(file));
  return issues;
}

/** Every SQL fragment of a PostgreSQL migration with its field path and how it is used. */
export function sqlFragmentsOf(file: PostgresMigrationFile): Array<{ path: string; sql: string; kind: SqlFragmentKind }> {
  const fragments: Array<{ path: string; sql: string; kind: SqlFragmentKind }> = [];
  if ('guard' in file.marker) fragments.push({ path: 'marker.guard', sql: file.marker.guard, kind: 'condition' });
  for (const [column, sql] of Object.entries(file.backfill.set)) fragments.push({ path: `backfill.set.${column}`, sql, kind: 'expression' });
  if (file.backfill.where !== undefined) fragments.push({ path: 'backfill.where', sql: file.backfill.where, kind: 'condition' });
  for (const [column, sql] of Object.entries(file.down.set ?? {})) fragments.push({ path: `down.set.${column}`, sql, kind: 'expression' });
  file.invariants.forEach((invariant, index) => fragments.push({ path: `invariants[${index}].sql`, sql: invariant.sql, kind: 'query' }));
  if (file.throttleQuery !== undefined) fragments.push({ path: 'throttleQuery', sql: file.throttleQuery, kind: 'query' });
  return fragments;
}

/** Calls of deny-listed functions (sql-guard.ts), refused unless the migration says `trusted: true`. */
function deniedCallIssues(file: PostgresMigrationFile): FieldIssue[] {
  return sqlFragmentsOf(file).flatMap(({ path, sql, kind }) => {
    const denied = deniedFunctionCalls(sql, kind);
    return denied.length === 0 ? [] : [{ path, message: `calls ${denied.join(', ')}, which a catalog entry may only call with trusted: true` }];
  });
}

/** The declarative document changes of `backfill` and `down` (same shape). */
type DocumentChanges = Pick<MongoMigrationFile['backfill'], 'set' | 'rename' | 'unset' | 'transform'>;

/** Rules of a MongoDB migration: something to do, no path touched twice or nested in another (in `backfill` and in `down`). */
export function mongoRuleIssues(file: MongoMigrationFile): FieldIssue[] {
  const issues = changeIssues(file, 'backfill', file.backfill, true);
  issues.push(...changeIssues(file, 'down', file.down, false));
  const hasDown = file.down.transform !== undefined || Object.keys(file.down.set).length + Object.keys(file.down.rename).length + file.down.unset.length > 0;
  if (hasDown && !('field' in file.marker)) issues.push({ path: 'down', message: 'a reverse backfill needs a marker field: with a guard upshift cannot tell the documents the new version created' });
  if ('field' in file.marker && file.marker.from === file.marker.to) issues.push({ path: 'marker.to', message: 'must differ from marker.from' });
  if (file.key !== '_id') issues.push({ path: 'key', message: 'must be _id' });
  return issues;
}

function changeIssues(file: MongoMigrationFile, section: 'backfill' | 'down', changes: DocumentChanges, required: boolean): FieldIssue[] {
  const { set, rename, unset } = changes;
  const touched: Array<{ path: string; field: string }> = [
    ...Object.keys(set).map((field) => ({ path: `${section}.set.${field}`, field })),
    ...Object.entries(rename).flatMap(([from, to]) => [
      { path: `${section}.rename.${from}`, field: from },
      { path: `${section}.rename.${from}`, field: to },
    ]),
    ...unset.map((field, index) => ({ path: `${section}.unset[${index}]`, field })),
  ];
  const issues: FieldIssue[] = [];
  if (changes.transform !== undefined && touched.length > 0) {
    issues.push({ path: `${section}.transform`, message: 'use either a transform module or set/rename/unset, not both' });
  }
  if (required && changes.transform === undefined && touched.length === 0) issues.push({ path: section, message: 'must set, rename or unset at least one field, or name a transform module' });
  if ('field' in file.marker) {
    const marker = file.marker.field;
    for (const entry of touched) {
      if (overlaps(entry.field, marker)) issues.push({ path: entry.path, message: `touches the version marker ${marker}; upshift sets it` });
    }
  }
  touched.forEach((entry, index) => {
    const clash = touched.slice(0, index).find((earlier) => overlaps(earlier.field, entry.field));
    if (clash) issues.push({ path: entry.path, message: `${entry.field} conflicts with ${clash.field} (${clash.path}) in one update` });
  });
  return issues;
}

/** True when two field paths are equal or one contains the other (`a` and `a.b`). */
export function overlaps(left: string, right: string): boolean {
  return left === right || left.startsWith(`${right}.`) || right.startsWith(`${left}.`);
}
