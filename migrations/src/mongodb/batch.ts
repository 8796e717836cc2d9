/**
 * One MongoDB batch without transactions: read the page, work out each document's write (declarative
 * update operators or the transform module's result), back up the pre-images (idempotent insert keyed
 * by `_id`, duplicates ignored so the first pre-image wins on a replay), then one guarded write per
 * document whose filter includes the version marker, so a replay changes nothing twice.
 */
import { BSON, MongoBulkWriteError } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';
import type { MongoMigration } from '../catalog/load.ts';
import { documentUpdate, setAtPath } from '../core/document-update.ts';
import type { DocumentUpdate } from '../core/document-update.ts';
import { MigrationError } from '../errors.ts';
import { encodeKey } from './keys.ts';
import type { DocumentTransform } from './transform.ts';

/**
 * Writes per command. Stock FerretDB 1.24 never answers an `update` command of 100 or more statements
 * (it holds a pooled connection per statement until the command ends; the stack's build is patched,
 * see stack/src/components/ferretdb.ts), so writes go in commands of 50 — harmless on MongoDB.
 */
export const maxWritesPerCommand = 50;

/** One document's write: update operators (declarative backfill) or a replacement (transform module). */
export type DocumentWrite = { id: unknown; update: DocumentUpdate } | { id: unknown; replacement: Document };

/** The filter of documents not yet migrated: the marker at `from`, or the guard. */
export function pendingFilter(migration: MongoMigration): Document {
  return 'field' in migration.marker ? { [migration.marker.field]: migration.marker.from } : { ...migration.marker.guard };
}

/**
 * `base` narrowed to one `_id`, as a plain equality: FerretDB looks a document up by its `_id` index only
 * for `{_id: value, …}`, not for `{_id: {$eq: value}}`.
 */
export function withId(base: Document, id: unknown): Document {
  return '_id' in base ? { $and: [base, { _id: id }] } : { ...base, _id: id };
}

/** The write of every document of a page; a transform runs first, so a throwing one leaves no trace. */
export async function plannedWrites(documents: Document[], migration: MongoMigration, transform: DocumentTransform | undefined): Promise<DocumentWrite[]> {
  if (!transform) return documents.map((document) => ({ id: document._id as unknown, update: documentUpdate(document, migration) }));
  const writes: DocumentWrite[] = [];
  for (const document of documents) writes.push({ id: document._id as unknown, replacement: await transformed(document, migration, transform) });
  return writes;
}

/** The transform's result for one document, checked: an object, the same `_id`, the marker at `to`. */
async function transformed(document: Document, migration: MongoMigration, transform: DocumentTransform): Promise<Document> {
  const key = encodeKey(document._id);
  const reject = (message: string, cause?: unknown) =>
    new MigrationError('TRANSFORM_FAILED', `${migration.ref}: transform(doc) for _id ${key} ${message}`, { cause, migration: migration.ref, key });
  let result: unknown;
  try {
    // A BSON round trip is a deep copy that keeps ObjectId, Decimal128 and dates (structuredClone does not).
    result = await transform(BSON.deserialize(BSON.serialize(document)), { BSON });
  } catch (error) {
    throw reject(`threw: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) throw reject(`must return the migrated document (an object), returned ${Array.isArray(result) ? 'an array' : String(result)}`);
  const replacement = result as Document;
  if ('_id' in replacement && encodeKey(replacement._id) !== key) throw reject(`must keep _id, returned _id ${encodeKey(replacement._id)}`);
  const withKey: Document = { _id: document._id as unknown, ...replacement };
  return 'field' in migration.marker ? setAtPath(withKey, migration.marker.field, migration.marker.to) : withKey;
}

/** Inserts pre-images into the backup; a document already there keeps its first (true) pre-image. */
export async function backUpDocuments(backup: Collection<Document>, documents: Document[]): Promise<void> {
  if (documents.length === 0) return;
  try {
    await backup.insertMany(documents, { ordered: false });
  } catch (error) {
    const list = writeErrorsOf(error);
    const onlyDuplicates = (error as { code?: unknown }).code === 11000 && list.every((item) => item.code === 11000);
    if (!onlyDuplicates) throw error;
  }
}

/**
 * Applies the writes, each guarded by the pending filter (a document changed to the new version by
 * someone else is left alone). A rejected write names its document's key.
 */
export async function applyWrites(collection: Collection<Document>, migration: MongoMigration, writes: DocumentWrite[]): Promise<number> {
  const pending = pendingFilter(migration);
  const operations: AnyBulkWriteOperation<Document>[] = writes.map((write) => 'update' in write
    ? { updateOne: { filter: withId(pending, write.id), update: write.update } }
    : { replaceOne: { filter: withId(pending, write.id), replacement: write.replacement } });
  let modified = 0;
  for (let start = 0; start < operations.length; start += maxWritesPerCommand) {
    try {
      const result = await collection.bulkWrite(operations.slice(start, start + maxWritesPerCommand), { ordered: false });
      modified += result.modifiedCount;
    } catch (error) {
      const first = writeErrorsOf(error).sort((a, b) => (a.index ?? 0) - (b.index ?? 0))[0];
      const write = first?.index === undefined ? undefined : writes[start + first.index];
      if (!(error instanceof MongoBulkWriteError) || !write) throw error;
      const key = encodeKey(write.id);
      throw new MigrationError('STORE_REJECTED', `${migration.ref}: writing _id ${key}: ${first?.errmsg ?? error.message}`, { cause: error, migration: migration.ref, key });
    }
  }
  return modified;
}

interface WriteErrorLike {
  index?: number;
  code?: unknown;
  errmsg?: string;
}

function writeErrorsOf(error: unknown): WriteErrorLike[] {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list as WriteErrorLike[];
}
