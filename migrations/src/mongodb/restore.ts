/**
 * A guarded MongoDB restore of one key range: the backup (sorted by `_id`) and the live documents of the
 * range (one sorted cursor) are walked side by side. A backed-up document gets back what the migration
 * changed where it still holds what the migration wrote (restore-plan.ts decides per path); a deleted
 * one stays deleted; one at the new version that is not in the backup was created (or moved) there by
 * the new version and is brought back by `down` when the catalog has one. Findings are recorded before
 * the writes they describe, every write is compare-and-set, and a miss is read again and decided again.
 */
import type { Collection, Document, FindCursor } from 'mongodb';
import type { KeyRange } from '../core/shards.ts';
import { valueAtPath } from '../core/document-update.ts';
import type { MarkerWrite } from '../core/document-update.ts';
import { unthrottledPage } from '../engine.ts';
import type { AroundPage, ConflictRule, RestoreResult, RestoreScope } from '../engine.ts';
import { MigrationError } from '../errors.ts';
import { exactReads, maxWriteAttempts, maxWritesPerCommand, withId, writeChunks } from './batch.ts';
import type { WriteHooks } from './batch.ts';
import { numberType } from './cas.ts';
import { recordFindings, shardFindings } from './conflicts.ts';
import { sameValue } from './document-diff.ts';
import type { PathChange } from './document-diff.ts';
import { compareKeys } from './key-order.ts';
import { encodeKey, idCondition, withIdCondition } from './keys.ts';
import { planDocument } from './plan.ts';
import type { Direction, DocumentPlan } from './plan.ts';
import { backupChanges, deletedFinding, planRestore } from './restore-plan.ts';
import type { FindingRecord } from './restore-plan.ts';

/** What a restore reads and writes. */
export interface RestoreTarget {
  ref: string;
  collection: Collection<Document>;
  backup: Collection<Document>;
  conflicts: Collection<Document>;
  rule: ConflictRule;
  /** The marker field and its new-version value (created documents are those at it); absent with a guard. */
  newVersion?: MarkerWrite;
  /** `down`'s reverse backfill, when the catalog has one. */
  down?: Direction;
  hooks: WriteHooks;
}

/** One document of the walk: backed up (with its changes) or created by the new version; `current` as last read. */
type RestoreItem =
  | { kind: 'backup'; id: unknown; key: string; changes: PathChange[]; current: Document | null }
  | { kind: 'created'; id: unknown; key: string; current: Document | null; tried?: DocumentPlan };

/** An item's decisions: findings to record, the write (if any), whether a path holds its pre-image again. */
interface ItemPlan {
  item: RestoreItem;
  key: string;
  findings: FindingRecord[];
  write?: { filter: Document; update: Document };
  restored: boolean;
  tried?: DocumentPlan;
}

/**
 * Restores `range`, each chunk of `maxWritesPerCommand` documents through `aroundPage` (which may wait;
 * the chunk keeps its size); returns the shard's totals over every attempt of this run (see RestoreResult).
 */
export async function restoreRange(target: RestoreTarget, range: KeyRange, scope: RestoreScope, aroundPage: AroundPage = unthrottledPage): Promise<RestoreResult> {
  const filter = withIdCondition({}, idCondition(range, null, null));
  const entries = target.backup.find(filter, exactReads).sort({ _id: 1 }).batchSize(1000);
  const live = target.collection.find(filter, exactReads).sort({ _id: 1 }).batchSize(1000);
  try {
    let restored = 0;
    let chunk: RestoreItem[] = [];
    for await (const pair of mergeByKey(entries, live)) {
      const item = restoreItem(target, pair.entry, pair.document);
      if (item) chunk.push(item);
      if (chunk.length < maxWritesPerCommand) continue;
      const full = chunk;
      restored += await aroundPage(full.length, () => restoreChunk(target, scope, full));
      chunk = [];
    }
    const last = chunk;
    if (last.length > 0) restored += await aroundPage(last.length, () => restoreChunk(target, scope, last));
    return { restored, ...(await shardFindings(target.conflicts, scope, target.ref)) };
  } finally {
    await Promise.all([entries.close(), live.close()]).catch(() => undefined);
  }
}

/** The backup entries and live documents of a range in `_id` order, paired where both exist. */
async function* mergeByKey(entries: FindCursor<Document>, live: FindCursor<Document>): AsyncGenerator<{ entry?: Document; document?: Document }> {
  let entry = await entries.next();
  let document = await live.next();
  while (entry || document) {
    const order = !entry ? 1 : !document ? -1 : compareKeys(entry._id, document._id);
    if (order < 0 && entry) {
      yield { entry };
      entry = await entries.next();
    } else if (order > 0 && document) {
      yield { document };
      document = await live.next();
    } else {
      yield { ...(entry ? { entry } : {}), ...(document ? { document } : {}) };
      [entry, document] = await Promise.all([entries.next(), live.next()]);
    }
  }
}

/** What the walk does with a key: a backed-up document, a created one, or nothing. */
function restoreItem(target: RestoreTarget, entry: Document | undefined, document: Document | undefined): RestoreItem | undefined {
  if (entry) {
    const key = encodeKey(entry._id);
    const changes = backupChanges(entry);
    if (!changes) throw new MigrationError('STORE_REJECTED', `${target.ref}: the backup entry of _id ${key} is not in the path-changes format (left by an older upshift?); it is not restored`, { migration: target.ref, key });
    return { kind: 'backup', id: entry._id, key, changes, current: document ?? null };
  }
  if (document && isCreated(target, document)) return { kind: 'created', id: document._id, key: encodeKey(document._id), current: document };
  return undefined;
}

function isCreated(target: RestoreTarget, document: Document): boolean {
  return target.newVersion !== undefined && holdsMarker(valueAtPath(document, target.newVersion.field), target.newVersion.to);
}

/** A marker value equal to `expected` (numbers of any BSON type by value, as the pending filter matches them). */
export function holdsMarker(value: unknown, expected: unknown): boolean {
  if (typeof expected !== 'number') return sameValue(value, expected);
  return numberType(value) !== undefined && Number(String(value)) === expected;
}

/** Restores a chunk of documents, re-reading and re-deciding those whose write missed; returns how many are restored. */
async function restoreChunk(target: RestoreTarget, scope: RestoreScope, items: RestoreItem[]): Promise<number> {
  let restored = 0;
  let todo = items;
  for (let attempt = 1; todo.length > 0; attempt += 1) {
    const plans: ItemPlan[] = [];
    for (const item of todo) plans.push(await planItem(target, item));
    await recordFindings(target.conflicts, scope, target.ref, plans.flatMap((plan) => plan.findings));
    const writes = plans.filter((plan) => plan.write !== undefined);
    restored += plans.filter((plan) => !plan.write && plan.restored).length;
    if (attempt > 1) for (const plan of writes) target.hooks.onCasMiss?.(plan.key, attempt - 1);
    const first = writes[0];
    if (first && attempt > maxWriteAttempts) {
      throw new MigrationError('THROTTLED', `${target.ref}: document ${first.key} kept changing during the restore (${maxWriteAttempts} attempts)`, { migration: target.ref, key: first.key });
    }
    if (writes.length === 0) break;
    await target.hooks.beforeWrite?.('restore', writes.map((plan) => plan.key));
    const missed = new Set((await writeChunks(target.collection, target.ref, writes)).missed.flatMap((chunk) => chunk.plans));
    restored += writes.filter((plan) => !missed.has(plan) && plan.restored).length;
    todo = await Promise.all([...missed].map(async (plan) => reread(target, plan)));
  }
  return restored;
}

/** The item of a missed write with its document read again (and, for a created one, the write it tried). */
async function reread(target: RestoreTarget, plan: ItemPlan): Promise<RestoreItem> {
  const current = await target.collection.findOne(withId({}, plan.item.id), exactReads);
  return plan.item.kind === 'backup' ? { ...plan.item, current } : { ...plan.item, current, ...(plan.tried ? { tried: plan.tried } : {}) };
}

async function planItem(target: RestoreTarget, item: RestoreItem): Promise<ItemPlan> {
  const base = { item, key: item.key, findings: [] as FindingRecord[], restored: false };
  if (item.kind === 'backup') {
    if (!item.current) return { ...base, findings: [deletedFinding(item.id)] };
    return { ...base, ...planRestore(item.id, item.changes, item.current, target.rule) };
  }
  const current = item.current;
  if (!current || !isCreated(target, current)) {
    // No longer at the new version: the revert tried before took effect, or the application moved it on.
    const ours = current !== null && item.tried !== undefined && item.tried.changes.every((change) => sameValue(valueAtPath(current, change.path), change.after));
    return ours || !item.tried ? base : { ...base, findings: [{ documentId: item.id, column: '*', kind: 'created', decision: 'left', ...(current ? { found: current } : {}) }] };
  }
  const revert = target.down ? await planDocument(current, target.down) : undefined;
  const finding: FindingRecord = { documentId: item.id, column: '*', kind: 'created', decision: revert?.write ? 'reverted' : 'left', found: current };
  return { ...base, findings: [finding], ...(revert?.write ? { write: revert.write, tried: revert } : {}) };
}
