/**
 * One MongoDB batch without transactions: read the page, back up the pre-images (idempotent insert
 * keyed by `_id`, duplicates ignored so the first pre-image wins on a replay), then one unordered
 * bulkWrite whose filters include the version marker, so a replay changes nothing twice.
 */
import { BSON } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';
import type { MongoMigration } from '../catalog/load.ts';
import { documentUpdate, groupUpdates } from '../core/document-update.ts';
import { withIdCondition } from './keys.ts';

/**
 * Update/replace operations per bulkWrite. FerretDB 1.24 never answers an `update` command carrying 100
 * or more statements (measured: 99 return in 0.7 s, 100 time out), so writes go in chunks of 50.
 */
export const maxWritesPerCommand = 50;

/** The filter of documents not yet migrated: the marker at `from`, or the guard. */
export function pendingFilter(migration: MongoMigration): Document {
  return 'field' in migration.marker ? { [migration.marker.field]: migration.marker.from } : { ...migration.marker.guard };
}

/** Inserts pre-images into the backup; a document already there keeps its first (true) pre-image. */
export async function backUpDocuments(backup: Collection<Document>, documents: Document[]): Promise<void> {
  if (documents.length === 0) return;
  try {
    await backup.insertMany(documents, { ordered: false });
  } catch (error) {
    const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    const onlyDuplicates = (error as { code?: unknown }).code === 11000 && list.every((item: { code?: unknown }) => item.code === 11000);
    if (!onlyDuplicates) throw error;
  }
}

/** Applies the migration to the page's documents; identical updates share one guarded updateMany. */
export async function updateDocuments(collection: Collection<Document>, migration: MongoMigration, documents: Document[]): Promise<number> {
  if (documents.length === 0) return 0;
  const pending = pendingFilter(migration);
  const entries = documents.map((document) => ({ key: document._id as unknown, update: documentUpdate(document, migration) }));
  const groups = groupUpdates(entries, (update) => BSON.EJSON.stringify(update, { relaxed: false }));
  const operations: AnyBulkWriteOperation<Document>[] = groups.map((group) => group.keys.length === 1
    ? { updateOne: { filter: withIdCondition(pending, { $eq: group.keys[0] }), update: group.update } }
    : { updateMany: { filter: withIdCondition(pending, { $in: group.keys }), update: group.update } });
  let modified = 0;
  for (let start = 0; start < operations.length; start += maxWritesPerCommand) {
    const result = await collection.bulkWrite(operations.slice(start, start + maxWritesPerCommand), { ordered: false });
    modified += result.modifiedCount;
  }
  return modified;
}
