/**
 * The MongoDB backfill as update operators (pure): `$rename` and `$unset` are the same for every
 * document, `$set` literals too; only `$field` references differ per document.
 */
import type { MongoMigrationFile } from '../catalog/schema.ts';

/** The update operators of one document. */
export interface DocumentUpdate {
  $set: Record<string, unknown>;
  $rename?: Record<string, string>;
  $unset?: Record<string, ''>;
}

/** The value at a dotted path of a document, or undefined. */
export function valueAtPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** The update that migrates `document` (its pre-image): references resolved, marker set when there is one. */
export function documentUpdate(document: unknown, migration: Pick<MongoMigrationFile, 'backfill' | 'marker'>): DocumentUpdate {
  const { set, rename, unset } = migration.backfill;
  const $set: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(set)) {
    if (typeof value === 'string' && value.startsWith('$')) {
      const referenced = valueAtPath(document, value.slice(1));
      if (referenced !== undefined) $set[path] = referenced;
    } else {
      $set[path] = value;
    }
  }
  if ('field' in migration.marker) $set[migration.marker.field] = migration.marker.to;
  const update: DocumentUpdate = { $set };
  if (Object.keys(rename).length > 0) update.$rename = { ...rename };
  if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((path) => [path, ''] as const));
  return update;
}

/** A copy of `document` with `value` at the dotted `path` (intermediate objects created or copied). */
export function setAtPath<T extends Record<string, unknown>>(document: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split('.');
  if (head === undefined) return document;
  if (rest.length === 0) return { ...document, [head]: value };
  const inner = document[head];
  const child = inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? inner as Record<string, unknown> : {};
  return { ...document, [head]: setAtPath(child, rest.join('.'), value) };
}
