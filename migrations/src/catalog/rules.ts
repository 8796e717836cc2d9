/**
 * Cross-field rules of a migration file that a per-field schema cannot express (pure): what the
 * backfill may assign, and paths that MongoDB would reject as conflicting in one update.
 */
import type { MongoMigrationFile, PostgresMigrationFile } from './schema.ts';

/** A problem at a field path of one migration file. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Rules of a PostgreSQL migration: the key and the marker are never assigned, added columns unique. */
export function postgresRuleIssues(file: PostgresMigrationFile): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const assigned = Object.keys(file.backfill.set);
  if (assigned.includes(file.key)) issues.push({ path: `backfill.set.${file.key}`, message: 'the key column must not be assigned' });
  if ('column' in file.marker) {
    if (assigned.includes(file.marker.column)) {
      issues.push({ path: `backfill.set.${file.marker.column}`, message: 'the version marker is set by upshift; do not assign it' });
    }
    if (file.marker.from === file.marker.to) issues.push({ path: 'marker.to', message: 'must differ from marker.from' });
  }
  const seen = new Set<string>();
  file.expand.addColumns.forEach((column, index) => {
    if (seen.has(column.name)) issues.push({ path: `expand.addColumns[${index}].name`, message: `column ${column.name} is added twice` });
    seen.add(column.name);
  });
  return issues;
}

/** Rules of a MongoDB migration: something to do, no path touched twice or nested in another. */
export function mongoRuleIssues(file: MongoMigrationFile): FieldIssue[] {
  const { set, rename, unset } = file.backfill;
  const touched: Array<{ path: string; field: string }> = [
    ...Object.keys(set).map((field) => ({ path: `backfill.set.${field}`, field })),
    ...Object.entries(rename).flatMap(([from, to]) => [
      { path: `backfill.rename.${from}`, field: from },
      { path: `backfill.rename.${from}`, field: to },
    ]),
    ...unset.map((field, index) => ({ path: `backfill.unset[${index}]`, field })),
  ];
  const issues: FieldIssue[] = [];
  if (file.backfill.transform !== undefined && touched.length > 0) {
    issues.push({ path: 'backfill.transform', message: 'use either a transform module or set/rename/unset, not both' });
  }
  if (file.backfill.transform === undefined && touched.length === 0) issues.push({ path: 'backfill', message: 'must set, rename or unset at least one field, or name a transform module' });
  if ('field' in file.marker) {
    const marker = file.marker.field;
    for (const entry of touched) {
      if (overlaps(entry.field, marker)) issues.push({ path: entry.path, message: `touches the version marker ${marker}; upshift sets it` });
    }
    if (file.marker.from === file.marker.to) issues.push({ path: 'marker.to', message: 'must differ from marker.from' });
  }
  touched.forEach((entry, index) => {
    const clash = touched.slice(0, index).find((earlier) => overlaps(earlier.field, entry.field));
    if (clash) issues.push({ path: entry.path, message: `${entry.field} conflicts with ${clash.field} (${clash.path}) in one update` });
  });
  if (file.key !== '_id') issues.push({ path: 'key', message: 'must be _id' });
  return issues;
}

/** True when two field paths are equal or one contains the other (`a` and `a.b`). */
export function overlaps(left: string, right: string): boolean {
  return left === right || left.startsWith(`${right}.`) || right.startsWith(`${left}.`);
}
