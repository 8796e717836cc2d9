/**
 * Shard steps (kind `shard`, key = shard id): recorded at fan-out, claimed and checkpointed under the
 * shard's lease in their own short transactions (progress survives a crash of the invocation that made
 * it), cancelled or marked restoring by a rollback. The checkpoint is migrate-shard's, stored as given.
 */
import type { Pool } from 'pg';
import { UpshiftError } from '../../errors.ts';
import type { StepStatus } from '../../lifecycle/statuses.ts';
import type { Lease, Queryable } from '../leases.ts';
import { withTransaction, type TxClient } from '../pool.ts';
import { writeFenced, type StepKey } from './steps.ts';

/** The step key of a shard. */
export function shardStep(runId: string, shardId: string): StepKey {
  return { runId, kind: 'shard', key: shardId };
}

/** A shard step of a run with its stored checkpoint. */
export interface ShardRow {
  readonly shardId: string;
  readonly status: StepStatus;
  readonly checkpoint: unknown;
}

/** Records planned shards (idempotent: a redelivered fan-out changes nothing). */
export async function recordShards(tx: TxClient, runId: string, shards: ReadonlyArray<{ shardId: string; checkpoint: unknown }>): Promise<void> {
  if (shards.length === 0) return;
  try {
    await tx.query(
      `INSERT INTO upshift.steps (run_id, kind, key, checkpoint)
       SELECT $1, 'shard', key, state FROM unnest($2::text[], $3::jsonb[]) AS s(key, state)
       ON CONFLICT (run_id, kind, key) DO NOTHING`,
      [runId, shards.map((s) => s.shardId), shards.map((s) => JSON.stringify(s.checkpoint))],
    );
  } catch (error) {
    throw unknownRun(error, runId);
  }
}

/** A step of a run the control store does not know (foreign key) is a contract violation, not a retry. */
function unknownRun(error: unknown, runId: string): unknown {
  if ((error as { code?: unknown }).code !== '23503') return error;
  return new UpshiftError('CONTRACT_VIOLATION', `run ${runId} is unknown to the control store`, { cause: error, context: { runId } });
}

/**
 * Creates the shard's step when absent (a shard requested without a fan-out); returns it as stored, in
 * one statement (a second read only when a concurrent insert committed after this statement began).
 */
export async function ensureShard(db: Queryable, step: StepKey, checkpoint: unknown): Promise<{ status: StepStatus; checkpoint: unknown }> {
  type Row = { status: StepStatus; checkpoint: unknown };
  let rows: Row[];
  try {
    ({ rows } = await db.query<Row>(
      `WITH inserted AS (
         INSERT INTO upshift.steps (run_id, kind, key, checkpoint) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id, kind, key) DO NOTHING
         RETURNING status, checkpoint
       )
       SELECT status, checkpoint FROM inserted
       UNION ALL
       SELECT status, checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3 AND NOT EXISTS (SELECT 1 FROM inserted)`,
      [step.runId, step.kind, step.key, JSON.stringify(checkpoint)],
    ));
  } catch (error) {
    throw unknownRun(error, step.runId);
  }
  if (rows.length === 0) {
    ({ rows } = await db.query<Row>(
      `SELECT status, checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3`, [step.runId, step.kind, step.key]));
  }
  return { status: rows[0]?.status ?? 'pending', checkpoint: rows[0]?.checkpoint ?? null };
}

/**
 * Marks the shard running under `lease` unless it is settled (a restore, a cancel or the end got there
 * first): returns the status it found. One fenced statement; its row lock orders it against a concurrent cancel.
 */
export async function claimShard(pool: Pool, step: StepKey, lease: Lease, checkpoint: unknown): Promise<StepStatus> {
  return writeFenced(pool, step, { status: 'running', checkpoint, newAttempt: true }, lease, ['pending', 'running']);
}

/**
 * Commits one batch's checkpoint (fenced by the lease): one autocommitted statement, or a transaction
 * when `alsoInTx` adds to it (e.g. a progress event in the outbox); returns the step's status, so the
 * worker sees a restore asking it to stop.
 */
export async function commitCheckpoint(
  pool: Pool, step: StepKey, lease: Lease, checkpoint: unknown, alsoInTx?: (tx: TxClient) => Promise<void>,
): Promise<StepStatus> {
  if (!alsoInTx) return writeFenced(pool, step, { checkpoint }, lease);
  return withTransaction(pool, async (tx) => {
    const status = await writeFenced(tx, step, { checkpoint }, lease);
    await alsoInTx(tx);
    return status;
  });
}

/** Every shard of a run with its status and checkpoint, in key order. */
export async function shardsOfRun(db: Queryable, runId: string): Promise<ShardRow[]> {
  const { rows } = await db.query<{ key: string; status: StepStatus; checkpoint: unknown }>(
    `SELECT key, status, checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = 'shard' ORDER BY key`, [runId]);
  return rows.map((row) => ({ shardId: row.key, status: row.status, checkpoint: row.checkpoint }));
}

/** Cancels the run's shards that have not started, so a rollback never races a late start. */
export async function cancelPendingShards(tx: TxClient, runId: string): Promise<number> {
  const result = await tx.query(
    `UPDATE upshift.steps SET status = 'cancelled', updated_at = now(), finished_at = now()
      WHERE run_id = $1 AND kind = 'shard' AND status = 'pending'`, [runId]);
  return result.rowCount ?? 0;
}

/** Asks a shard's worker to stop (it reads the status at its next checkpoint): a restore is coming. */
export async function markRestoring(db: Queryable, step: StepKey): Promise<void> {
  await db.query(
    `UPDATE upshift.steps SET status = 'restoring', updated_at = now()
      WHERE run_id = $1 AND kind = $2 AND key = $3 AND status <> 'restored'`, [step.runId, step.kind, step.key]);
}

/** Progress one shard adds to (or has added to) its run's tally: finished shards, rows changed, scanned share. */
export interface ProgressCount {
  readonly done: number;
  readonly rows: number;
  readonly share: number;
}

/** The migrate progress of a run as tallied, over all its migrations: shards planned and the counts in. */
export interface ProgressTally extends ProgressCount {
  readonly shards: number;
}

/** How many rows per migration its shards count their progress into (schema version 7): slot = shard index mod this. */
export const progressSlots = 16;

/** The shard a progress report is about: its migration and its index in it (which picks its tally row). */
export interface ProgressShard {
  readonly migration: string;
  readonly index: number;
}

/**
 * Adds a shard's progress since its last report to its migration's tally and returns the run's totals,
 * in one statement on a few rows (never every shard). Call it in the transaction that saves the
 * shard's checkpoint with what it has counted in, so each report is counted exactly once. The row it
 * adds to is one of its migration's `progressSlots`, so shards running together seldom wait on each
 * other's transaction for the row lock.
 */
export async function countProgress(tx: TxClient, runId: string, shard: ProgressShard, delta: ProgressCount): Promise<ProgressTally> {
  const slot = ((shard.index % progressSlots) + progressSlots) % progressSlots;
  const { rows } = await tx.query<{ shards: string | null; done: string | null; rows: string | null; share: number | null }>(
    `WITH counted AS (
       INSERT INTO upshift.shard_tallies AS t (run_id, kind, migration, slot, done, rows, share) VALUES ($1, 'shard', $2, $6, $3, $4, $5)
       ON CONFLICT (run_id, kind, migration, slot) DO UPDATE SET done = t.done + $3, rows = t.rows + $4, share = t.share + $5
       RETURNING shards, done, rows, share
     ), others AS (
       SELECT shards, done, rows, share FROM upshift.shard_tallies
        WHERE run_id = $1 AND kind = 'shard' AND (migration <> $2 OR slot <> $6)
     )
     SELECT sum(shards) AS shards, sum(done) AS done, sum(rows) AS rows, sum(share) AS share
       FROM (SELECT * FROM counted UNION ALL SELECT * FROM others) t`,
    [runId, shard.migration, delta.done, delta.rows, delta.share, slot],
  );
  const row = rows[0];
  return { shards: Number(row?.shards ?? 0), done: Number(row?.done ?? 0), rows: Number(row?.rows ?? 0), share: Number(row?.share ?? 0) };
}
