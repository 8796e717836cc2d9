/**
 * A run's dead letters (steps of kind `dead-letter`, key = the event id): how many times upshift redrove
 * the event, the last cause, and what it decided. `upshift status` lists them with the run's steps.
 */
import type { Queryable } from '../leases.ts';
import type { TxClient } from '../pool.ts';

/** What is kept about one dead-lettered event. */
export interface DeadLetterRecord {
  readonly type: string;
  readonly destination: string;
  readonly status: number;
  readonly reason: string;
  /** What upshift did: redriven (the n-th time), the run failed, or only recorded. */
  readonly decision: 'redrive' | 'fail' | 'record';
  readonly redrives: number;
}

/** How many times the event was redriven so far (0 when it was never dead-lettered). */
export async function redrivesOf(db: Queryable, runId: string, eventId: string): Promise<number> {
  const { rows } = await db.query<{ attempt: number }>(`SELECT attempt FROM upshift.steps WHERE run_id = $1 AND kind = 'dead-letter' AND key = $2`, [runId, eventId]);
  return rows[0]?.attempt ?? 0;
}

/** Records (or updates) the dead letter of an event of the run; `attempt` counts its redrives. */
export async function recordDeadLetter(tx: TxClient, runId: string, eventId: string, record: DeadLetterRecord): Promise<void> {
  const status = record.decision === 'redrive' ? 'running' : record.decision === 'fail' ? 'failed' : 'completed';
  await tx.query(
    `INSERT INTO upshift.steps AS s (run_id, kind, key, status, attempt, checkpoint, started_at, finished_at)
     VALUES ($1, 'dead-letter', $2, $3, $4, $5, now(), CASE WHEN $3 = 'running' THEN NULL ELSE now() END)
     ON CONFLICT (run_id, kind, key) DO UPDATE
       SET status = EXCLUDED.status, attempt = EXCLUDED.attempt, checkpoint = EXCLUDED.checkpoint, updated_at = now(),
           finished_at = EXCLUDED.finished_at`,
    [runId, eventId, status, record.redrives, JSON.stringify(record)],
  );
}

/** The migrations of a run that have shards (their data may have changed). */
export async function migrationsWithShards(db: Queryable, runId: string): Promise<string[]> {
  const { rows } = await db.query<{ migration: string }>(
    `SELECT DISTINCT split_part(key, ':', 2) AS migration FROM upshift.steps WHERE run_id = $1 AND kind = 'shard' ORDER BY 1`, [runId]);
  return rows.map((row) => row.migration);
}
