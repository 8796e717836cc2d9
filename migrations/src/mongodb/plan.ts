/**
 * The compare-and-set write of one document (no I/O): its migrated form computed in JavaScript
 * (declarative changes with MongoDB's semantics, or the transform module's result), diffed against the
 * pre-image into changed paths, written as `$set`/`$unset` of those paths only (never a whole-document
 * replace, so a field the application adds meanwhile survives), under a filter that pins every path
 * the change reads or touches to its pre-image value. Used by the backfill (marker from → to) and by
 * a restore's reverse backfill of documents the new version created (to → from).
 */
import { BSON } from 'mongodb';
import type { Document } from 'mongodb';
import type { MongoMigration } from '../catalog/load.ts';
import { DocumentPathError, migratedDocument, readPaths, setAtPath, touchedPaths, valueAtPath } from '../core/document-update.ts';
import type { DocumentChanges, MarkerWrite } from '../core/document-update.ts';
import { MigrationError } from '../errors.ts';
import { casFilter } from './cas.ts';
import { diffDocuments, diffTransformed, updateTowards } from './document-diff.ts';
import type { PathChange } from './document-diff.ts';
import { encodeKey } from './keys.ts';
import type { DocumentTransform } from './transform.ts';

/** Which way documents go: what is pending, what changes them, how their marker moves. */
export interface Direction {
  ref: string;
  /** Documents still to do: the marker at its start value, or the guard. */
  pending: Document;
  /** The marker field and its end value (absent with a guard). */
  marker?: MarkerWrite;
  /** With a guard: added to every write's filter, so a document that stopped matching it is left alone. */
  guard?: Document;
  changes: DocumentChanges;
  transform?: DocumentTransform;
}

/** The backfill: pending documents (marker at `from`, or the guard) to the new form. */
export function backfillDirection(migration: MongoMigration, transform: DocumentTransform | undefined): Direction {
  const { set, rename, unset } = migration.backfill;
  const common = { ref: migration.ref, changes: { set, rename, unset }, ...(transform ? { transform } : {}) };
  if ('field' in migration.marker) {
    return { ...common, pending: { [migration.marker.field]: migration.marker.from }, marker: { field: migration.marker.field, to: migration.marker.to } };
  }
  return { ...common, pending: { ...migration.marker.guard }, guard: migration.marker.guard };
}

/** The reverse backfill of `down` (marker `to` → `from`), or undefined when the catalog has none (or a guard). */
export function downDirection(migration: MongoMigration, transform: DocumentTransform | undefined): Direction | undefined {
  const { set, rename, unset } = migration.down;
  const declarative = Object.keys(set).length + Object.keys(rename).length + unset.length > 0;
  if (!('field' in migration.marker) || (!declarative && !transform)) return undefined;
  const { field, from, to } = migration.marker;
  return { ref: migration.ref, pending: { [field]: to }, marker: { field, to: from }, changes: { set, rename, unset }, ...(transform ? { transform } : {}) };
}

/** One document's planned write; no `write` when it is already in its target form. */
export interface DocumentPlan {
  id: unknown;
  key: string;
  changes: PathChange[];
  write?: { filter: Document; update: Document };
}

/** Plans the write of one document from `pre` (read with BSON types kept). Throws naming the document. */
export async function planDocument(pre: Document, direction: Direction): Promise<DocumentPlan> {
  const id: unknown = pre._id;
  const key = encodeKey(id);
  const { changes, pinned } = direction.transform
    ? await transformedChanges(pre, direction, direction.transform, key)
    : declarativeChanges(pre, direction, key);
  if (changes.length === 0) return { id, key, changes };
  const paths = [...pinned, ...changes.map((change) => change.path)];
  const filter = casFilter(id, paths, (path) => valueAtPath(pre, path), direction.guard);
  return { id, key, changes, write: { filter, update: updateTowards(changes, 'after') } };
}

function declarativeChanges(pre: Document, direction: Direction, key: string): { changes: PathChange[]; pinned: string[] } {
  try {
    const migrated = migratedDocument(pre, direction.changes, direction.marker);
    return { changes: diffDocuments(pre, migrated), pinned: [...readPaths(direction.changes), ...touchedPaths(direction.changes, direction.marker)] };
  } catch (error) {
    throw rejected(error, direction.ref, key);
  }
}

/** The transform's result diffed against what it was given; every top-level field of the pre-image is pinned (the module may read any). */
async function transformedChanges(pre: Document, direction: Direction, transform: DocumentTransform, key: string): Promise<{ changes: PathChange[]; pinned: string[] }> {
  const reject = (message: string, cause?: unknown) =>
    new MigrationError('TRANSFORM_FAILED', `${direction.ref}: transform(doc) for _id ${key} ${message}`, { cause, migration: direction.ref, key });
  // A BSON round trip is a deep copy that keeps ObjectId, Decimal128 and dates (structuredClone does not); numbers become plain.
  const bytes = BSON.serialize(pre);
  const given = BSON.deserialize(bytes);
  let result: unknown;
  try {
    result = await transform(BSON.deserialize(bytes), { BSON });
  } catch (error) {
    throw reject(`threw: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) throw reject(`must return the migrated document (an object), returned ${Array.isArray(result) ? 'an array' : String(result)}`);
  const returned = result as Document;
  if ('_id' in returned && encodeKey(returned._id) !== encodeKey(given._id)) {
    throw reject(`must keep _id, returned _id ${encodeKey(returned._id)}`);
  }
  const withKey: Document = { ...returned, _id: pre._id as unknown };
  const migrated = direction.marker ? setAtPath(withKey, direction.marker.field, direction.marker.to) : withKey;
  try {
    const changes = diffTransformed(pre, given, migrated);
    return { changes, pinned: [...Object.keys(pre).filter((field) => field !== '_id'), ...(direction.marker ? [direction.marker.field] : [])] };
  } catch (error) {
    throw rejected(error, direction.ref, key);
  }
}

/** A change MongoDB would refuse for this document, as the batch's error naming it. */
function rejected(error: unknown, ref: string, key: string): unknown {
  if (!(error instanceof DocumentPathError)) return error;
  return new MigrationError('STORE_REJECTED', `${ref}: _id ${key}: ${error.message}`, { cause: error, migration: ref, key });
}
