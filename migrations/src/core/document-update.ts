/**
 * The MongoDB backfill as update operators (pure): `$rename` and `$unset` are the same for every
 * document, `$set` literals too; only `$field` references differ per document. Documents whose update
 * is identical are grouped so a store can apply them with one guarded updateMany.
 */
import { canonicalJson } from '../catalog/checksum.ts';
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

/** Documents (by key) that share one identical update. */
export interface UpdateGroup<Key> {
  update: DocumentUpdate;
  keys: Key[];
}

/** Groups documents by identical update, in first-seen order (key order within a group is kept). */
export function groupUpdates<Key>(entries: ReadonlyArray<{ key: Key; update: DocumentUpdate }>, serialize: (update: DocumentUpdate) => string = canonicalJson): UpdateGroup<Key>[] {
  const groups = new Map<string, UpdateGroup<Key>>();
  for (const entry of entries) {
    const id = serialize(entry.update);
    const group = groups.get(id);
    if (group) group.keys.push(entry.key);
    else groups.set(id, { update: entry.update, keys: [entry.key] });
  }
  return [...groups.values()];
}
