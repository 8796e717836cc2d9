/**
 * One MongoDB batch without transactions: plan every document's compare-and-set write (a throwing
 * transform leaves no trace), back up what each write changes, then write `writesPerCommand` per command. A write that
 * matched nothing met a document the application changed since the read: it is read again and, while
 * still pending, planned and written again (its backup entry replaced first); one that is no longer
 * pending was migrated or deleted by the application and is left alone.
 */
import { MongoBulkWriteError } from 'mongodb';
import type { AnyBulkWriteOperation, Collection, Document } from 'mongodb';
import type { MongoMigration } from '../catalog/load.ts';
import { valueAtPath } from '../core/document-update.ts';
import { MigrationError } from '../errors.ts';
import { sameValue } from './document-diff.ts';
import { planDocument } from './plan.ts';
import type { Direction, DocumentPlan } from './plan.ts';

/**
 * Writes per command at most. Stock FerretDB 1.24 never answers an `update` command of 100 or more
 * statements (it holds a pooled connection per statement until the command ends; the stack's build is
 * patched, see stack/src/components/ferretdb.ts), so writes go in commands of 50 at most — harmless on MongoDB.
 */
export const maxWritesPerCommand = 50;

/**
 * Writes per command of a backfill (its backup inserts and its compare-and-set updates) by default.
 * Measured on the stack's FerretDB (bench/README.md, `src/online.ts`): commands of 2–20 cost throughput
 * (0.27–0.64× `updateMany` against 0.61–0.67× at 50) and did not lower an application writer's p99,
 * which FerretDB's per-statement update lock and SQLite's write lock set, not the command size.
 */
export const defaultWritesPerCommand = maxWritesPerCommand;

/** Attempts of one document's write within a batch before the batch gives way (THROTTLED). */
export const maxWriteAttempts = 5;

/** Read options that keep BSON types (an int stays an int, a double a double) for diffs, backups and filters. */
export const exactReads = { promoteValues: false } as const;

/** Observers of the engine's compare-and-set writes (metrics; tests race a write through `beforeWrite`). */
export interface WriteHooks {
  /** A document's write missed: the application changed it since it was read (`attempt` 1 = the first write). */
  onCasMiss?: (key: string, attempt: number) => void;
  /** Runs after planning and before the writes of a chunk of documents (`keys`). */
  beforeWrite?: (phase: 'backfill' | 'restore', keys: string[]) => Promise<void>;
}

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

/** What a batch writes to. */
export interface BatchTarget {
  collection: Collection<Document>;
  /** The backup collection, or undefined when the batch backs nothing up. */
  backup: Collection<Document> | undefined;
  direction: Direction;
  hooks: WriteHooks;
  /** Writes per command, 1 to `maxWritesPerCommand` (default `defaultWritesPerCommand`). */
  writesPerCommand?: number;
}

/** The writes per command a batch of `target` uses: its own setting, kept within 1 and `maxWritesPerCommand`. */
export function writesPerCommandOf(target: { writesPerCommand?: number }): number {
  const asked = Math.floor(target.writesPerCommand ?? defaultWritesPerCommand);
  return Math.min(maxWritesPerCommand, Math.max(1, Number.isFinite(asked) ? asked : defaultWritesPerCommand));
}

/** Plans, backs up and writes the documents of a page; returns how many this batch changed. */
export async function migrateDocuments(target: BatchTarget, documents: Document[]): Promise<number> {
  const plans: DocumentPlan[] = [];
  for (const document of documents) plans.push(await planDocument(document, target.direction));
  let todo = plans.filter((plan) => plan.write !== undefined);
  const perCommand = writesPerCommandOf(target);
  if (target.backup) await backUp(target.backup, todo, perCommand);
  let changed = 0;
  for (let attempt = 1; todo.length > 0; attempt += 1) {
    await target.hooks.beforeWrite?.('backfill', todo.map((plan) => plan.key));
    const outcome = await writeChunks(target.collection, target.direction.ref, todo, perCommand);
    changed += outcome.matched;
    const retry: DocumentPlan[] = [];
    for (const chunk of outcome.missed) retry.push(...(await resolveMisses(target, chunk.plans, chunk.plans.length - chunk.matched)));
    for (const plan of retry) target.hooks.onCasMiss?.(plan.key, attempt);
    const first = retry[0];
    if (first && attempt >= maxWriteAttempts) {
      throw new MigrationError('THROTTLED', `${target.direction.ref}: document ${first.key} kept changing during the backfill (${maxWriteAttempts} attempts)`, { migration: target.direction.ref, key: first.key });
    }
    if (target.backup) await replaceBackups(target.backup, retry, perCommand);
    todo = retry;
  }
  return changed;
}

/** A chunk of writes, and how many of them matched a document. */
export interface ChunkOutcome<T> {
  plans: T[];
  matched: number;
}

/** Runs writes `perCommand` per command; returns the total matched and the chunks where some write matched nothing. */
export async function writeChunks<T extends { key: string; write?: { filter: Document; update: Document } }>(collection: Collection<Document>, ref: string, plans: T[], perCommand = maxWritesPerCommand): Promise<{ matched: number; missed: ChunkOutcome<T>[] }> {
  let matched = 0;
  const missed: ChunkOutcome<T>[] = [];
  for (const chunk of chunksOf(plans, perCommand)) {
    const operations: AnyBulkWriteOperation<Document>[] = chunk.map((plan) => ({ updateOne: { filter: plan.write?.filter ?? {}, update: plan.write?.update ?? {} } }));
    try {
      const result = await collection.bulkWrite(operations, { ordered: false });
      matched += result.matchedCount;
      if (result.matchedCount < chunk.length) missed.push({ plans: chunk, matched: result.matchedCount });
    } catch (error) {
      throw rejectedWrite(error, ref, (index) => chunk[index]?.key);
    }
  }
  return { matched, missed };
}

/**
 * Sorts out a chunk with misses (the server reports only how many matched): a document still pending
 * is planned again from a fresh read and returned for another attempt. Of those no longer pending, the
 * ones that hold what their write wrote are taken as written; when the others account for exactly the
 * misses, they were migrated or deleted by the application, and their backup entries go (when that
 * cannot be told — a document written by this batch and changed again right away — the entry stays).
 */
async function resolveMisses(target: BatchTarget, plans: DocumentPlan[], misses: number): Promise<DocumentPlan[]> {
  const { collection, direction } = target;
  const states = await Promise.all(plans.map(async (plan) => {
    const pending = await collection.findOne(withId(direction.pending, plan.id), exactReads);
    if (pending) return { plan, pending, ours: false };
    const current = await collection.findOne(withId({}, plan.id), exactReads);
    return { plan, pending: null, ours: current !== null && plan.changes.every((change) => sameValue(valueAtPath(current, change.path), change.after)) };
  }));
  const replanned: DocumentPlan[] = [];
  for (const state of states) if (state.pending) replanned.push(await planDocument(state.pending, direction));
  const notOurs = states.filter((state) => !state.pending && !state.ours).map((state) => state.plan);
  const unwritten = replanned.filter((plan) => plan.write === undefined);
  if (target.backup) {
    const gone = states.filter((state) => state.pending).length + notOurs.length === misses ? [...notOurs, ...unwritten] : unwritten;
    await deleteBackups(target.backup, gone, writesPerCommandOf(target));
  }
  return replanned.filter((plan) => plan.write !== undefined);
}

/** A backup entry: the document's `_id` and what its write changes, path by path (before/after as BSON values). */
function backupEntry(plan: DocumentPlan): Document {
  return { _id: plan.id, changes: plan.changes };
}

/** `items` in consecutive chunks of `size` (the last one shorter). */
export function chunksOf<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/**
 * Inserts the backup entries `perCommand` per command; one already there (a batch resumed after a crash)
 * is replaced by this plan's, before the write.
 */
async function backUp(backup: Collection<Document>, plans: DocumentPlan[], perCommand: number): Promise<void> {
  for (const chunk of chunksOf(plans, perCommand)) {
    try {
      await backup.insertMany(chunk.map(backupEntry), { ordered: false });
    } catch (error) {
      const list = writeErrorsOf(error);
      const onlyDuplicates = list.length > 0 && list.every((item) => item.code === 11000);
      if (!onlyDuplicates) throw error;
      await replaceBackups(backup, list.map((item) => chunk[item.index ?? -1]).filter((plan): plan is DocumentPlan => plan !== undefined), perCommand);
    }
  }
}

/** Replaces (or inserts) the backup entries of `plans` with their newest pre-image and write. */
async function replaceBackups(backup: Collection<Document>, plans: DocumentPlan[], perCommand: number): Promise<void> {
  for (const chunk of chunksOf(plans, perCommand)) {
    await backup.bulkWrite(chunk.map((plan) => ({ replaceOne: { filter: withId({}, plan.id), replacement: { changes: plan.changes }, upsert: true } })), { ordered: false });
  }
}

/** Deletes the backup entries of documents this run did not migrate. */
async function deleteBackups(backup: Collection<Document>, plans: DocumentPlan[], perCommand: number): Promise<void> {
  for (const chunk of chunksOf(plans, perCommand)) {
    await backup.bulkWrite(chunk.map((plan) => ({ deleteOne: { filter: withId({}, plan.id) } })), { ordered: false });
  }
}

/** A write the server rejected, as STORE_REJECTED naming the document of the first failed statement. */
export function rejectedWrite(error: unknown, ref: string, keyAt: (index: number) => string | undefined): unknown {
  const first = writeErrorsOf(error).sort((a, b) => (a.index ?? 0) - (b.index ?? 0))[0];
  const key = first?.index === undefined ? undefined : keyAt(first.index);
  if (!(error instanceof MongoBulkWriteError) || key === undefined) return error;
  return new MigrationError('STORE_REJECTED', `${ref}: writing _id ${key}: ${first?.errmsg ?? error.message}`, { cause: error, migration: ref, key });
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
