/**
 * What a restore does with one backed-up document (pure): per path the migration changed, compare what
 * the document holds now with what the migration wrote (`after`) and what was there before (`before`).
 * - now = after: the migration's value is still there → put `before` back;
 * - now = before: already back (an earlier, interrupted restore, or the application) → nothing;
 * - anything else: the application changed it after the migration → a conflict, decided by
 *   `down.conflicts` (`keep-current` keeps it, `restore` writes `before`) and reported either way.
 * The write pins every changed path to what was just read, so it is itself compare-and-set.
 */
import type { Document } from 'mongodb';
import { canSetPath, valueAtPath } from '../core/document-update.ts';
import type { ConflictRule } from '../engine.ts';
import { casFilter } from './cas.ts';
import { pathChange, sameValue, updateTowards } from './document-diff.ts';
import type { PathChange } from './document-diff.ts';

/** What happens to one changed path: `restore` (the migration's value goes), `already` back, a conflict `kept` or `restored`. */
export type PathDecision = 'restore' | 'already' | 'kept' | 'restored';

/** One path of a restore plan: the change backed up, what the document holds now, the decision. */
export interface PathRestore {
  change: PathChange;
  found: unknown;
  decision: PathDecision;
}

/** A finding as the conflicts collection records it (BSON values as they were; absent = missing). */
export interface FindingRecord {
  documentId: unknown;
  column: string;
  kind: 'changed' | 'deleted' | 'created';
  decision: 'kept' | 'restored' | 'reverted' | 'left';
  written?: unknown;
  found?: unknown;
}

/** The restore of one document: per-path decisions, the findings, and the write (if any path is written). */
export interface RestorePlan {
  paths: PathRestore[];
  findings: FindingRecord[];
  write?: { filter: Document; update: Document };
  /** At least one path holds (or will hold) its pre-image again. */
  restored: boolean;
}

/** The decision for one changed path given what the document holds there now. */
export function decidePath(change: PathChange, found: unknown, rule: ConflictRule, settable: boolean): PathDecision {
  if (sameValue(found, change.after)) return 'restore';
  if (sameValue(found, change.before)) return 'already';
  return rule === 'restore' && settable ? 'restored' : 'kept';
}

/**
 * Plans the restore of the document `current` (read just now) from its backed-up changes. A conflict
 * under `restore` whose path now runs through a value that is not a document is kept (MongoDB could
 * not set it).
 */
export function planRestore(id: unknown, changes: PathChange[], current: Record<string, unknown>, rule: ConflictRule): RestorePlan {
  const paths = changes.map((change): PathRestore => {
    const found = valueAtPath(current, change.path);
    return { change, found, decision: decidePath(change, found, rule, canSetPath(current, change.path)) };
  });
  const findings = paths.filter((path) => path.decision === 'kept' || path.decision === 'restored').map((path): FindingRecord => ({
    documentId: id, column: path.change.path, kind: 'changed', decision: path.decision as 'kept' | 'restored',
    ...(path.change.after === undefined ? {} : { written: path.change.after }),
    ...(path.found === undefined ? {} : { found: path.found }),
  }));
  const written = paths.filter((path) => path.decision === 'restore' || path.decision === 'restored').map((path) => path.change);
  const restored = paths.some((path) => path.decision !== 'kept');
  if (written.length === 0) return { paths, findings, restored };
  const byPath = new Map(paths.map((path) => [path.change.path, path.found]));
  const filter = casFilter(id, byPath.keys(), (path) => byPath.get(path));
  return { paths, findings, restored, write: { filter, update: updateTowards(written, 'before') } };
}

/** The finding of a backed-up document that is gone: it stays deleted. */
export function deletedFinding(id: unknown): FindingRecord {
  return { documentId: id, column: '*', kind: 'deleted', decision: 'kept' };
}

/** The changes of a backup entry, checked: an entry of another format is refused rather than misread. */
export function backupChanges(entry: Document): PathChange[] | undefined {
  const changes: unknown = entry.changes;
  if (!Array.isArray(changes)) return undefined;
  const valid = changes.every((change: unknown) => change !== null && typeof change === 'object' && typeof (change as { path?: unknown }).path === 'string');
  if (!valid) return undefined;
  return (changes as Array<{ path: string; before?: unknown; after?: unknown }>).map((change) => pathChange(change.path, change.before, change.after));
}
