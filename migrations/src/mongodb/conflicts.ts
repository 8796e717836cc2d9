/**
 * The operator's report of a rollback: every finding of a restore (a conflict, a deleted or a created
 * document) in `upshift_conflicts` of the migration's database, one document per run, migration, key
 * and path, upserted so a resumed restore records each once. Totals of a shard are counted from it, so
 * a restore resumed after a crash reports what the undisturbed one would. dropBackups leaves it alone.
 *
 * The `_id` is the text `[runId, migration, key, column]` (canonical JSON) rather than an embedded
 * document: the stack's FerretDB finds string `_id`s through its index but scans for a document `_id`
 * (measured: ~110 ms per upsert at 3,000 findings, against ~1.4 ms). The four parts are fields too.
 */
import type { Collection, Document } from 'mongodb';
import { maxRestoreFindings } from '../engine.ts';
import type { RestoreFinding, RestoreResult, RestoreScope } from '../engine.ts';
import { maxWritesPerCommand } from './batch.ts';
import { canonicalValue } from './document-diff.ts';
import { encodeKey } from './keys.ts';
import type { FindingRecord } from './restore-plan.ts';

/** The collection of restore findings in the migration's database. */
export const conflictsCollectionName = 'upshift_conflicts';

/** How long a finding's `written`/`found` text may be in a RestoreResult. */
export const findingTextLimit = 300;

/** The `_id` of a finding: one per run, migration, document key and path. */
export function findingId(scope: RestoreScope, ref: string, key: string, column: string): string {
  return JSON.stringify([scope.runId, ref, key, column]);
}

/** Upserts findings (50 per command); a finding recorded before keeps its first `recordedAt`. */
export async function recordFindings(conflicts: Collection<Document>, scope: RestoreScope, ref: string, findings: FindingRecord[]): Promise<void> {
  for (let start = 0; start < findings.length; start += maxWritesPerCommand) {
    const chunk = findings.slice(start, start + maxWritesPerCommand);
    await conflicts.bulkWrite(chunk.map((finding) => {
      const key = encodeKey(finding.documentId);
      const absent = (['written', 'found'] as const).filter((field) => finding[field] === undefined);
      const update: Document = {
        $set: {
          runId: scope.runId, migration: ref, key, column: finding.column, documentId: finding.documentId, shardId: scope.shardId,
          kind: finding.kind, decision: finding.decision,
          ...(finding.written === undefined ? {} : { written: finding.written }), ...(finding.found === undefined ? {} : { found: finding.found }),
        },
        $setOnInsert: { recordedAt: new Date() },
        ...(absent.length > 0 ? { $unset: Object.fromEntries(absent.map((field) => [field, ''])) } : {}),
      };
      return { updateOne: { filter: { _id: findingId(scope, ref, key, finding.column) as unknown as Document['_id'] }, update, upsert: true } };
    }), { ordered: false });
  }
}

/** The totals of a shard's restore over every attempt, and its first findings in key order. */
export async function shardFindings(conflicts: Collection<Document>, scope: RestoreScope, ref: string): Promise<Omit<RestoreResult, 'restored'>> {
  const shard = { runId: scope.runId, migration: ref, shardId: scope.shardId };
  const count = (filter: Document) => conflicts.countDocuments({ ...shard, ...filter });
  const [changed, deleted, created, createdReverted] = await Promise.all([
    count({ kind: 'changed' }), count({ kind: 'deleted' }), count({ kind: 'created' }), count({ kind: 'created', decision: 'reverted' }),
  ]);
  const first = await conflicts.find(shard, { promoteValues: false }).sort({ documentId: 1, column: 1 }).limit(maxRestoreFindings).toArray();
  return { conflicts: changed + deleted, created, createdReverted, findings: first.map(restoreFinding) };
}

function restoreFinding(record: Document): RestoreFinding {
  const text = (value: unknown) => value === undefined ? null : canonicalValue(value).slice(0, findingTextLimit);
  return {
    key: String(record.key), column: String(record.column),
    kind: record.kind as RestoreFinding['kind'], decision: record.decision as RestoreFinding['decision'],
    written: text(record.written), found: text(record.found),
  };
}
