/**
 * A run's one-time actions (`once` steps, key = the claim): the primary key makes each exactly once
 * across instances and redeliveries; the detail kept with it says why (e.g. what started a rollback).
 */
import type { Claim } from '../../lifecycle/statuses.ts';
import type { TxClient } from '../pool.ts';
import type { Queryable } from '../leases.ts';

/** Claims `claim` for the run; false when it was claimed before. */
export async function claimOnce(tx: TxClient, runId: string, claim: Claim, detail: unknown = {}): Promise<boolean> {
  const result = await tx.query(
    `INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint, started_at) VALUES ($1, 'once', $2, 'running', $3, now()) ON CONFLICT DO NOTHING`,
    [runId, claim, JSON.stringify(detail)]);
  return (result.rowCount ?? 0) > 0;
}

/** Marks a claimed action done (status shows when the verification or revert happened). */
export async function finishOnce(tx: TxClient, runId: string, claim: Claim): Promise<void> {
  await tx.query(`UPDATE upshift.steps SET status = 'completed', finished_at = now(), updated_at = now() WHERE run_id = $1 AND kind = 'once' AND key = $2`, [runId, claim]);
}

/** Whether `claim` was taken (a look before costly work that a claim would discard). */
export async function isClaimed(db: Queryable, runId: string, claim: Claim): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM upshift.steps WHERE run_id = $1 AND kind = 'once' AND key = $2`, [runId, claim]);
  return (rowCount ?? 0) > 0;
}

/** The detail stored with a claim, or undefined when it was never claimed. */
export async function claimDetail<T>(db: Queryable, runId: string, claim: Claim): Promise<T | undefined> {
  const { rows } = await db.query<{ checkpoint: T }>(`SELECT checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = 'once' AND key = $2`, [runId, claim]);
  return rows[0]?.checkpoint;
}
