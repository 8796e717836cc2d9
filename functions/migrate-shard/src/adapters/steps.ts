/**
 * Shard steps in the control store (kind `shard`, key = shard id): created at fan-out, claimed and
 * checkpointed under the shard lease in their own short transactions, so progress survives a crash of
 * the invocation that made it.
 */
import { readStep, saveCheckpoint, UpshiftError, withTransaction } from '@upshift/runtime';
import type { Lease, StepKey, TxClient } from '@upshift/runtime';
import type { Pool } from '../context.ts';
import { asShardState } from '../core/shard-state.ts';
import type { ShardState } from '../core/shard-state.ts';
import type { ShardSeen } from '../core/progress.ts';
import type { ShardStepSeen } from '../core/restore.ts';

/** The step key of a shard. */
export function shardStep(runId: string, shardId: string): StepKey {
  return { runId, kind: 'shard', key: shardId };
}

/** A shard step as stored. */
export interface StoredShard {
  status: string;
  state: ShardState | null;
}

/** Records planned shards (idempotent: a redelivered fan-out changes nothing). */
export async function recordShards(tx: TxClient, runId: string, shards: ReadonlyArray<{ shardId: string; state: ShardState }>): Promise<void> {
  if (shards.length === 0) return;
  try {
    await tx.query(
      `INSERT INTO upshift.steps (run_id, kind, key, checkpoint)
       SELECT $1, 'shard', key, state FROM unnest($2::text[], $3::jsonb[]) AS s(key, state)
       ON CONFLICT (run_id, kind, key) DO NOTHING`,
      [runId, shards.map((s) => s.shardId), shards.map((s) => JSON.stringify(s.state))],
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

/** Creates the shard's step in its own transaction when absent (a shard requested without a fan-out). */
export async function ensureShard(pool: Pool, step: StepKey, state: ShardState): Promise<StoredShard> {
  try {
    await pool.query(
      `INSERT INTO upshift.steps (run_id, kind, key, checkpoint) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id, kind, key) DO NOTHING`,
      [step.runId, step.kind, step.key, JSON.stringify(state)],
    );
  } catch (error) {
    throw unknownRun(error, step.runId);
  }
  return readShard(pool, step);
}

/** Reads a shard step. */
export async function readShard(db: Pick<Pool, 'query'>, step: StepKey): Promise<StoredShard> {
  const found = await readStep(db, step);
  return { status: found?.status ?? 'pending', state: asShardState(found?.checkpoint) };
}

/**
 * Marks the shard running under `lease` unless it is settled (a restore, a cancel or the end got there
 * first): returns the status it found. The row lock orders this against a concurrent cancel.
 */
export async function claimShard(pool: Pool, step: StepKey, lease: Lease, state: ShardState): Promise<string> {
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ status: string }>(
      `SELECT status FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3 FOR UPDATE`, [step.runId, step.kind, step.key]);
    const status = rows[0]?.status ?? 'pending';
    if (status !== 'pending' && status !== 'running') return status;
    await saveCheckpoint(tx, step, { status: 'running', checkpoint: state, newAttempt: true }, lease);
    return 'running';
  });
}

/**
 * Commits one batch's checkpoint (fenced by the lease) in its own transaction, with `alsoInTx` (e.g. a
 * progress event in the outbox); returns the status, so the worker sees a restore asking it to stop.
 */
export async function commitCheckpoint(
  pool: Pool, step: StepKey, lease: Lease, state: ShardState, alsoInTx?: (tx: TxClient) => Promise<void>,
): Promise<string> {
  return withTransaction(pool, async (tx) => {
    await saveCheckpoint(tx, step, { checkpoint: state }, lease);
    await alsoInTx?.(tx);
    const { rows } = await tx.query<{ status: string }>(
      `SELECT status FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3`, [step.runId, step.kind, step.key]);
    return rows[0]?.status ?? 'running';
  });
}

/** Every shard of a run with its status and state. */
export async function shardsOfRun(db: Pick<Pool, 'query'>, runId: string): Promise<Array<ShardSeen & ShardStepSeen>> {
  const { rows } = await db.query<{ key: string; status: string; checkpoint: unknown }>(
    `SELECT key, status, checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = 'shard' ORDER BY key`, [runId]);
  return rows.map((row) => {
    const state = asShardState(row.checkpoint);
    return { shardId: row.key, status: row.status, state, migration: state?.migration ?? '' };
  });
}

/** Cancels the run's shards that have not started, so a rollback never races a late start. */
export async function cancelPendingShards(tx: TxClient, runId: string): Promise<number> {
  const result = await tx.query(
    `UPDATE upshift.steps SET status = 'cancelled', updated_at = now(), finished_at = now()
      WHERE run_id = $1 AND kind = 'shard' AND status = 'pending'`, [runId]);
  return result.rowCount ?? 0;
}

/** Asks a shard's worker to stop (it reads the status at its next checkpoint): a restore is coming. */
export async function markRestoring(pool: Pool, step: StepKey): Promise<void> {
  await pool.query(
    `UPDATE upshift.steps SET status = 'restoring', updated_at = now()
      WHERE run_id = $1 AND kind = $2 AND key = $3 AND status <> 'restored'`, [step.runId, step.kind, step.key]);
}
