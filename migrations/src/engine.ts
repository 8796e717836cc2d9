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

/** What a shard restore did. */
export interface RestoreResult {
  restored: number;
}

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
  /** Puts every backed-up row of `range` back exactly as it was; idempotent. */
  restoreShard(range: KeyRange): Promise<RestoreResult>;
  /** Rows/documents of `range` (all when omitted) still at the old version. */
  countRemaining(range?: KeyRange): Promise<number>;
  /** Runs the migration's invariants. */
  checkInvariants(): Promise<InvariantResult[]>;
  /** Runs the destructive contract phase (only after a successful verify, when the policy asks). */
  contract(): Promise<void>;
  /** Drops the backup of this migration (only when the run says so). */
  dropBackups(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
