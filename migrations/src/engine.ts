/**
 * The store-independent engine API: what plan (split, estimate), migrate-shard (expand, batch,
 * restore) and verify (remaining rows, invariants) call. PostgreSQL and MongoDB implement it.
 */
import type { KeyRange } from './core/shards.ts';

/** One batch to run: the next page of a shard after `after` (the checkpoint's last key). */
export interface BatchRequest {
  range: KeyRange;
  /** The last key already processed; `null` starts at `range.start`. */
  after: string | null;
  /** Inclusive upper bound frozen when an open-ended shard starts, so concurrent inserts cannot keep it going. */
  ceiling: string | null;
  batchSize: number;
  /** Back up pre-images before changing rows (off only for benchmarks or policies that say so). */
  backup: boolean;
}

/** What one committed batch did. */
export interface BatchResult {
  /** The last key of the page (the next checkpoint), or the previous one when the page was empty. */
  lastKey: string | null;
  scanned: number;
  changed: number;
  durationMs: number;
  /** The page was shorter than the batch size: nothing is left in the shard. */
  done: boolean;
}

/** Which run and shard a restore works for: its findings are recorded under them. */
export interface RestoreScope {
  runId: string;
  shardId: string;
}

/**
 * Runs one page of a restore through the caller's throttle (migrate-shard's store throttle, as its
 * backfill batches): it may wait before the page and run it with fewer rows than `pageSize`.
 */
export type AroundPage = <T>(pageSize: number, page: (pageSize: number) => Promise<T>) => Promise<T>;

/** A restore page run as it is, with the engine's own size (no throttle). */
export const unthrottledPage: AroundPage = (pageSize, page) => page(pageSize);

/** How a restore treats a migrated column/field the application changed after the migration (`down.conflicts`). */
export type ConflictRule = 'keep-current' | 'restore';

/**
 * Something a restore could not simply put back, recorded per key and column/path in the conflicts
 * table/collection: `changed` (the application changed a migrated column after the migration),
 * `deleted` (the row is gone), `created` (a row at the new version that the run did not migrate).
 */
export interface RestoreFinding {
  key: string;
  /** The column or field path; `*` for a whole row (deleted, created). */
  column: string;
  kind: 'changed' | 'deleted' | 'created';
  /** `kept` (the application's value stays), `restored` (the pre-image won), `reverted` (down.set/down.transform applied), `left` (a created row left as it is). */
  decision: 'kept' | 'restored' | 'reverted' | 'left';
  /** What the migration wrote, as JSON text (truncated), or null. */
  written: string | null;
  /** What the restore found instead, as JSON text (truncated), or null. */
  found: string | null;
}

/** What a shard restore did, counted over the whole shard (a resumed restore counts what earlier attempts did too). */
export interface RestoreResult {
  /** Rows/documents of which at least one column/field was put back. */
  restored: number;
  /** Column/field conflicts and deleted rows (findings of kind `changed` or `deleted`). */
  conflicts: number;
  /** Rows/documents at the new version that the run did not migrate (the new version created them). */
  created: number;
  /** Of those, how many `down.set`/`down.transform` brought back to the old form. */
  createdReverted: number;
  /** The first findings in key order (at most `maxRestoreFindings`); the table/collection holds them all. */
  findings: RestoreFinding[];
}

/** How many findings a RestoreResult (and so `shard.restore.done`) carries at most. */
export const maxRestoreFindings = 20;

/** The outcome of one invariant. */
export interface InvariantResult {
  name: string;
  expected: number;
  actual: number;
  ok: boolean;
}

/** A problem found against the real store (a column that does not exist, a key of the wrong type). */
export interface PreflightProblem {
  path: string;
  message: string;
}

/** The engine of one migration against one store. */
export interface MigrationEngine {
  readonly ref: string;
  /** Checks the migration against the real table/collection; runs nothing that changes data. */
  preflight(): Promise<PreflightProblem[]>;
  /**
   * Runs the additive DDL (idempotent) and creates the backup table/collection. With `runId`, the backup
   * belongs to that run: backups left by another run of the same migration (an earlier rollback, or a
   * completed run without contract) are emptied first, so a restore can only ever put back this run's
   * pre-images; a redelivered expand of the same run keeps them.
   */
  expand(runId?: string): Promise<void>;
  /** Estimated rows/documents (for `auto` shard counts and progress). */
  estimateCount(): Promise<number>;
  /** Splits the key space into at most `count` ranges balanced by row count. */
  splitShards(count: number): Promise<KeyRange[]>;
  /** The largest key inside `range` now (the ceiling of an open-ended shard), or null if empty. */
  maxKey(range: KeyRange): Promise<string | null>;
  /** Runs one batch: select the page, back up the rows about to change, change them, commit. */
  runBatch(request: BatchRequest): Promise<BatchResult>;
  /**
   * Puts back what the migration changed in `range`: only the migrated columns/fields, and only where
   * they still hold what the migration wrote; anything else is a finding, decided by `down.conflicts`
   * and recorded under `scope`. Rows the run did not migrate but that are at the new version get
   * `down.set` when the catalog has one. Idempotent: a resumed restore ends with the same data. Each
   * page goes through `aroundPage` when given (throttled like the backfill's batches).
   */
  restoreShard(range: KeyRange, scope: RestoreScope, aroundPage?: AroundPage): Promise<RestoreResult>;
  /** Rows/documents of `range` (all when omitted) still at the old version. */
  countRemaining(range?: KeyRange): Promise<number>;
  /**
   * Rows/documents of `range` that the run's backup holds: what the run changed there, read from the
   * store itself. A batch that committed while its worker died before recording its checkpoint is
   * counted here (its replay finds the rows migrated and changes none), never twice.
   */
  countBackedUp(range: KeyRange): Promise<number>;
  /** Runs the migration's invariants. */
  checkInvariants(): Promise<InvariantResult[]>;
  /** Runs the destructive contract phase (only after a successful verify, when the policy asks). */
  contract(): Promise<void>;
  /** Drops the backup of this migration (only when the run says so). */
  dropBackups(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
