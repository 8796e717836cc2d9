/**
 * What a migration changes in one document, path by path (pure, BSON-aware): the diff of the pre-image
 * and the migrated form. It is what a backfill writes (`$set`/`$unset` of those paths only), what its
 * backup keeps (`before`/`after` per path) and what a restore puts back.
 */
import { BSON } from 'mongodb';
import { DocumentPathError, isPlainDocument, valueAtPath } from '../core/document-update.ts';

/** One changed field path: its value before and after (an absent one means the field is missing). */
export interface PathChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** A value as canonical Extended JSON text: keeps BSON types (int vs double vs long), field order, ObjectIds. */
export function canonicalValue(value: unknown): string {
  return BSON.EJSON.stringify(value, { relaxed: false });
}

/** Same value and BSON type; `undefined` stands for a missing field and equals only itself. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a === b || canonicalValue(a) === canonicalValue(b);
}

/** A field name an update can address by path: not empty, no '.', not starting with '$'. */
export function isAddressableKey(key: string): boolean {
  return key.length > 0 && !key.includes('.') && !key.startsWith('$');
}

/** A sub-document the diff descends into: plain and every key addressable (otherwise it is one value). */
function isDiffable(value: unknown): value is Record<string, unknown> {
  return isPlainDocument(value) && Object.keys(value).every(isAddressableKey);
}

/**
 * The changed paths from `before` to `after` (whole documents; `_id` is never a change). Plain
 * sub-documents are compared field by field, so a change inside one names its own path and leaves its
 * siblings alone; arrays, BSON values and sub-documents with unaddressable keys are single values.
 * Throws a DocumentPathError when a changed top-level field cannot be addressed by path.
 */
export function diffDocuments(before: Record<string, unknown>, after: Record<string, unknown>): PathChange[] {
  const changes: PathChange[] = [];
  for (const key of unionKeys(before, after)) {
    if (key === '_id') continue;
    const from = before[key];
    const to = after[key];
    if (!isAddressableKey(key)) {
      if (!sameValue(from, to)) throw new DocumentPathError(key, `cannot update the field ${JSON.stringify(key)} by path`);
      continue;
    }
    diffValue(key, from, to, changes);
  }
  return changes;
}

function diffValue(path: string, from: unknown, to: unknown, changes: PathChange[]): void {
  if (isDiffable(from) && isDiffable(to)) {
    for (const key of unionKeys(from, to)) diffValue(`${path}.${key}`, from[key], to[key], changes);
    return;
  }
  if (!sameValue(from, to)) changes.push(pathChange(path, from, to));
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

/** A change with `before`/`after` only when the field exists on that side. */
export function pathChange(path: string, before: unknown, after: unknown): PathChange {
  return { path, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) };
}

/**
 * The diff of a transform's result against the copy it was given (plain JavaScript numbers), with each
 * `before` taken from the exact pre-image: a field the transform returns as it received it is no change,
 * so an untouched double or long keeps its BSON type.
 */
export function diffTransformed(exact: Record<string, unknown>, given: Record<string, unknown>, result: Record<string, unknown>): PathChange[] {
  return diffDocuments(given, result).map((change) => pathChange(change.path, valueAtPath(exact, change.path), change.after));
}

/** The update that moves the changed paths to one side (`after` migrates, `before` restores): `$set`/`$unset` only. */
export function updateTowards(changes: PathChange[], side: 'before' | 'after'): { $set?: Record<string, unknown>; $unset?: Record<string, ''> } {
  const $set: Record<string, unknown> = {};
  const $unset: Record<string, ''> = {};
  for (const change of changes) {
    const value = change[side];
    if (value === undefined) $unset[change.path] = '';
    else $set[change.path] = value;
  }
  return { ...(Object.keys($set).length > 0 ? { $set } : {}), ...(Object.keys($unset).length > 0 ? { $unset } : {}) };
}
