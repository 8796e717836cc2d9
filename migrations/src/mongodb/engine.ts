/**
 * The MongoDB engine: one migration against one collection, with the same API as the PostgreSQL one.
 * Uses only what FerretDB 1.24 supports: find/sort/limit, insertMany, bulkWrite of update operators
 * (no pipeline updates), countDocuments, createIndex — no transactions, sessions, $sample or $bucketAuto.
 */
import { MongoClient } from 'mongodb';
import type { AbstractCursor, Collection, Db, Document, FindCursor } from 'mongodb';
import type { MongoMigration } from '../catalog/load.ts';
import { boundaryPositions, rangesFromBoundaries } from '../core/shards.ts';
import type { KeyRange } from '../core/shards.ts';
import type { BatchRequest, BatchResult, MigrationEngine, PreflightProblem } from '../engine.ts';
import { wrapMongoError } from '../errors.ts';
import { exactReads, migrateDocuments, pendingFilter } from './batch.ts';
import type { BatchTarget, WriteHooks } from './batch.ts';
import { conflictsCollectionName } from './conflicts.ts';
import { encodeKey, idCondition, withIdCondition } from './keys.ts';
import { backfillDirection, downDirection } from './plan.ts';
import { restoreRange } from './restore.ts';
import { loadTransform } from './transform.ts';
import type { DocumentTransform, TransformPhase } from './transform.ts';

/** How the engine connects. */
export interface MongoEngineOptions {
  connectionString: string;
  poolSize?: number;
  /** Per operation: fail instead of waiting longer than this. */
  statementTimeoutMs?: number;
  /** Observers of compare-and-set writes (misses for metrics; tests race writes through them). */
  hooks?: WriteHooks;
  /** Writes per command of a backfill batch (default `defaultWritesPerCommand`; bench/src/online.ts compares sizes). */
  writesPerCommand?: number;
}

/** The backup collection of a migration: `upshift_backup__<collection>__<name>__v<version>`. */
export function backupCollectionName(migration: MongoMigration): string {
  return `upshift_backup__${migration.collection}__${migration.name}__v${migration.version}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Who owns each backup collection: `{ _id: <backup collection>, runId, format }` (MongoDB has no table comments). */
export const backupOwnersCollection = 'upshift_backup_owners';

/**
 * The format of backup entries: `{_id, changes: [{path, before?, after?}]}`. Entries of another format
 * (whole pre-images, written by an older upshift) are never read as these: a claim empties them.
 */
export const backupFormat = 'path-changes/1';

/**
 * Makes the backup collection `runId`'s: one owned by another run (or by none, or in another format)
 * is emptied first, then the owner is recorded. Emptying comes first, so a crash in between empties it
 * again on the retry.
 */
async function claimBackup(db: Db, backup: Collection<Document>, runId: string): Promise<void> {
  const owners = db.collection<{ _id: string; runId: string; format?: string }>(backupOwnersCollection);
  const owner = await owners.findOne({ _id: backup.collectionName });
  if (owner?.runId === runId && owner.format === backupFormat) return;
  await backup.deleteMany({});
  await owners.replaceOne({ _id: backup.collectionName }, { runId, format: backupFormat }, { upsert: true });
}

/** An open page cursor of one shard, reused while batches continue where it stopped (one scan per shard). */
interface OpenPage {
  id: string;
  lastKey: string | null;
  cursor: FindCursor<Document>;
}

/**
 * Opens the engine of a MongoDB migration (the client connects on first use). A dropped connection never
 * reaches the process as an 'error' event (the driver listens on its client, topology, pools and
 * connections itself) and the driver reconnects on the next operation; the operation that met the drop
 * fails as UNAVAILABLE (`wrapMongoError`) and its delivery is retried from the shard's checkpoint.
 */
export function createMongoEngine(migration: MongoMigration, options: MongoEngineOptions): MigrationEngine {
  const client = new MongoClient(options.connectionString, {
    maxPoolSize: options.poolSize ?? 4, serverSelectionTimeoutMS: 10_000, socketTimeoutMS: options.statementTimeoutMs ?? 120_000, appName: `upshift:${migration.ref}`,
  });
  const db = client.db(migration.database);
  const collection = db.collection<Document>(migration.collection);
  const backup = db.collection<Document>(backupCollectionName(migration));
  const ref = migration.ref;
  const pages = new Map<string, OpenPage>();
  const hooks = options.hooks ?? {};
  const transforms = new Map<TransformPhase, Promise<DocumentTransform | undefined>>();
  const loadedTransform = (phase: TransformPhase = 'backfill') => {
    const loading = transforms.get(phase) ?? loadTransform(migration, phase);
    transforms.set(phase, loading);
    return loading;
  };

  async function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw wrapMongoError(error, `${ref}: ${what}`, ref);
    }
  }

  return {
    ref,
    preflight: () => guarded('preflight', async () => [
      ...(await transformProblems(loadedTransform, 'backfill')),
      ...(await transformProblems(loadedTransform, 'down')),
      ...(await mongoPreflight(db.listCollections({ name: migration.collection }, { nameOnly: true }).toArray(), collection, migration)),
    ]),
    expand: (runId) => guarded('expand', async () => {
      for (const index of migration.expand.createIndexes) await collection.createIndex(index.keys, { name: index.name });
      await db.createCollection(backup.collectionName).catch((error: { code?: number }) => {
        if (error.code !== 48) throw error; // NamespaceExists: created before
      });
      if (runId !== undefined) await claimBackup(db, backup, runId);
    }),
    estimateCount: () => guarded('estimating documents', () => collection.estimatedDocumentCount()),
    splitShards: (count) => guarded('splitting shards', () => splitBySortedIds(collection, count)),
    maxKey: (range) => guarded('reading the last key', async () => {
      const last = await collection.find(withIdCondition({}, idCondition(range, null, null)), { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).toArray();
      return last[0] ? encodeKey(last[0]._id) : null;
    }),
    runBatch: (request) => guarded('running a batch', async () => runMongoBatch(request, pages, migration, {
      collection, backup: request.backup ? backup : undefined, direction: backfillDirection(migration, await loadedTransform()), hooks,
      ...(options.writesPerCommand === undefined ? {} : { writesPerCommand: options.writesPerCommand }),
    })),
    restoreShard: (range, scope, aroundPage) => guarded('restoring a shard', async () => {
      const down = downDirection(migration, await loadedTransform('down'));
      return restoreRange({
        ref, collection, backup, conflicts: db.collection(conflictsCollectionName), rule: migration.down.conflicts, hooks,
        ...('field' in migration.marker ? { newVersion: { field: migration.marker.field, to: migration.marker.to } } : {}), ...(down ? { down } : {}),
      }, range, scope, aroundPage);
    }),
    countRemaining: (range) => guarded('counting remaining documents', () =>
      collection.countDocuments(withIdCondition(pendingFilter(migration), range ? idCondition(range, null, null) : null))),
    countBackedUp: (range) => guarded('counting backed-up documents', () =>
      backup.countDocuments(withIdCondition({}, idCondition(range, null, null)))),
    checkInvariants: () => guarded('checking invariants', async () => {
      const results = [];
      for (const invariant of migration.invariants) {
        const actual = await collection.countDocuments(invariant.filter);
        results.push({ name: invariant.name, expected: invariant.expect, actual, ok: actual === invariant.expect });
      }
      return results;
    }),
    contract: () => guarded('contract', async () => {
      if (migration.contract.unset.length > 0) {
        await collection.updateMany({}, { $unset: Object.fromEntries(migration.contract.unset.map((path) => [path, ''] as const)) });
      }
      for (const index of migration.contract.dropIndexes) await collection.dropIndex(index).catch(() => undefined);
    }),
    dropBackups: () => guarded('dropping backups', async () => {
      await backup.drop(); // already gone is not an error (the driver answers false since 7.0)
      await db.collection<{ _id: string }>(backupOwnersCollection).deleteOne({ _id: backup.collectionName });
    }),
    close: async () => {
      await Promise.all([...pages.values()].map((page) => page.cursor.close().catch(() => undefined)));
      pages.clear();
      await client.close();
    },
  };
}

/** One batch: continue the shard's open cursor if the request resumes where it stopped, else open one. */
async function runMongoBatch(request: BatchRequest, pages: Map<string, OpenPage>, migration: MongoMigration, target: BatchTarget): Promise<BatchResult> {
  const { collection } = target;
  const started = performance.now();
  const id = JSON.stringify([request.range, request.ceiling]);
  let page = pages.get(id);
  if (!page || page.lastKey !== request.after) {
    await page?.cursor.close().catch(() => undefined);
    const filter = withIdCondition(pendingFilter(migration), idCondition(request.range, request.after, request.ceiling));
    page = { id, lastKey: request.after, cursor: collection.find(filter, exactReads).sort({ _id: 1 }).batchSize(Math.min(5000, Math.max(100, request.batchSize))) };
    pages.set(id, page);
  }
  // A failed batch must not leave the cursor past documents it did not change, nor a dead cursor behind:
  // after a dropped connection the driver closes it, and a closed cursor reads as exhausted (the shard
  // would look done with documents left). The retried batch opens a new one from the checkpoint.
  const forget = async () => {
    pages.delete(id);
    await page.cursor.close().catch(() => undefined);
  };
  let documents: Document[];
  let changed: number;
  try {
    documents = await readUpTo(page.cursor, request.batchSize);
    changed = await migrateDocuments(target, documents);
  } catch (error) {
    await forget();
    throw error;
  }
  const done = documents.length < request.batchSize;
  const last = documents.at(-1);
  page.lastKey = last ? encodeKey(last._id) : request.after;
  if (done) await forget();
  return { lastKey: page.lastKey, scanned: documents.length, changed, durationMs: performance.now() - started, done };
}

async function readUpTo(cursor: AbstractCursor<Document>, count: number): Promise<Document[]> {
  const documents: Document[] = [];
  while (documents.length < count) {
    const next = await cursor.next();
    if (next === null) break;
    documents.push(next);
  }
  return documents;
}

/** Balanced ranges from the sorted `_id`s (streamed, ids only): every n-th id is a boundary. */
async function splitBySortedIds(collection: Collection<Document>, count: number): Promise<KeyRange[]> {
  if (count <= 1) return [{ start: null, end: null }];
  const total = await collection.countDocuments({});
  const positions = new Set(boundaryPositions(total, count));
  const boundaries: string[] = [];
  let position = 0;
  for await (const document of collection.find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).batchSize(10_000)) {
    if (positions.has(position)) boundaries.push(encodeKey(document._id));
    position += 1;
  }
  return rangesFromBoundaries(boundaries);
}

/** A transform module that cannot be loaded or exports no `transform` function, as a preflight problem. */
async function transformProblems(load: (phase: TransformPhase) => Promise<DocumentTransform | undefined>, phase: TransformPhase): Promise<PreflightProblem[]> {
  try {
    await load(phase);
    return [];
  } catch (error) {
    return [{ path: `${phase}.transform`, message: (error as Error).message }];
  }
}

/** The collection must exist; if it has documents, some must carry the version marker. */
async function mongoPreflight(found: Promise<Document[]>, collection: Collection<Document>, migration: MongoMigration): Promise<PreflightProblem[]> {
  if ((await found).length === 0) return [{ path: 'collection', message: `collection ${migration.collection} does not exist` }];
  if (!('field' in migration.marker)) return [];
  const field = migration.marker.field;
  const sample = await collection.find({}, { projection: { [field]: 1 } }).limit(100).toArray();
  if (sample.length > 0 && (await collection.countDocuments({ [field]: { $in: [migration.marker.from, migration.marker.to] } }, { limit: 1 })) === 0) {
    return [{ path: 'marker.field', message: `no document has ${field} at ${String(migration.marker.from)} or ${String(migration.marker.to)}` }];
  }
  return [];
}
