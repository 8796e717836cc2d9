/**
 * A run's steps (waves, reverts, shards, fan-in records) with status, attempt and checkpoint. Work done
 * under a lease is fenced: a checkpoint is refused unless the lease is current and no write with a newer
 * token has landed on the step.
 */
import { UpshiftError } from '../../errors.ts';
import type { StepKind, StepStatus } from '../../lifecycle/statuses.ts';
import { staleToken } from '../leases.ts';
import type { Lease, Queryable } from '../leases.ts';
import type { TxClient } from '../pool.ts';

/** Identifies one step of a run. */
export interface StepKey {
  readonly runId: string;
  readonly kind: StepKind;
  readonly key: string;
}

/** A step as stored. */
export interface Step extends StepKey {
  readonly status: StepStatus;
  readonly attempt: number;
  readonly checkpoint: unknown;
  readonly fencingToken: number;
}

/** Creates the step if absent and returns it as stored. */
export async function ensureStep(db: Queryable, step: StepKey, checkpoint?: unknown): Promise<Step> {
  await db.query(`INSERT INTO upshift.steps (run_id, kind, key, checkpoint) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
    step.runId, step.kind, step.key, checkpoint === undefined ? null : JSON.stringify(checkpoint),
  ]);
  const found = await readStep(db, step);
  if (!found) throw new UpshiftError('INTERNAL', `step ${step.kind}/${step.key} vanished`, { context: { ...step } });
  return found;
}

/** Reads a step, or undefined. */
export async function readStep(db: Queryable, step: StepKey): Promise<Step | undefined> {
  const { rows } = await db.query<{ status: StepStatus; attempt: number; checkpoint: unknown; fencing_token: string }>(
    `SELECT status, attempt, checkpoint, fencing_token FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3`,
    [step.runId, step.kind, step.key],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { ...step, status: row.status, attempt: row.attempt, checkpoint: row.checkpoint, fencingToken: Number(row.fencing_token) };
}

/** The step's status as of this read (`running` for a step not recorded). */
export async function stepStatus(db: Queryable, step: StepKey): Promise<StepStatus> {
  const { rows } = await db.query<{ status: StepStatus }>(
    `SELECT status FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3`, [step.runId, step.kind, step.key]);
  return rows[0]?.status ?? 'running';
}

/** What a step write under a lease changes: its checkpoint, and its status (else kept) and attempt when given. */
export interface FencedUpdate {
  readonly status?: StepStatus;
  readonly checkpoint: unknown;
  readonly newAttempt?: boolean;
}

/**
 * Records progress under a lease, in ONE statement (autocommitted on a pool, or in the caller's
 * transaction): the lease row is locked (FOR SHARE, so no one can take the lease before this commits)
 * and the step written only if the lease is current and unexpired, no write with a newer token has
 * landed on the step, and (`onlyFrom`) the step is in one of these statuses. Refused with
 * STALE_FENCING_TOKEN otherwise; answers the step's status after the write, or, when `onlyFrom` kept it
 * from writing, the status that did.
 */
export async function writeFenced(
  db: Queryable, step: StepKey, update: FencedUpdate, lease: Pick<Lease, 'name' | 'token'>, onlyFrom?: readonly StepStatus[],
): Promise<StepStatus> {
  const { rows } = await db.query<{ fenced: boolean; written: StepStatus | null; current: StepStatus | null }>(
    `WITH fence AS MATERIALIZED (
       SELECT (token = $6 AND holder IS NOT NULL AND expires_at > now()) AS ok FROM upshift.leases WHERE name = $8 FOR SHARE
     ), written AS (
       UPDATE upshift.steps SET checkpoint = $4, status = COALESCE($5, status), fencing_token = $6,
              attempt = attempt + CASE WHEN $7 THEN 1 ELSE 0 END, updated_at = now(),
              started_at = COALESCE(started_at, now()),
              finished_at = CASE WHEN $5 IN ('completed', 'failed') THEN now() ELSE finished_at END
        WHERE run_id = $1 AND kind = $2 AND key = $3 AND fencing_token <= $6
          AND ($9::text[] IS NULL OR status = ANY($9::text[]))
          AND coalesce((SELECT ok FROM fence), false)
       RETURNING status
     )
     SELECT coalesce((SELECT ok FROM fence), false) AS fenced, (SELECT status FROM written) AS written,
            CASE WHEN $9::text[] IS NULL THEN NULL ELSE (SELECT status FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3) END AS current`,
    [step.runId, step.kind, step.key, JSON.stringify(update.checkpoint), update.status ?? null, lease.token, update.newAttempt === true,
      lease.name, onlyFrom ? [...onlyFrom] : null],
  );
  const row = rows[0];
  if (row?.written) return row.written;
  // Not written. A status outside `onlyFrom` answers first (as before any fence); re-read once, as the
  // statement's own read may predate a concurrent change it waited for.
  if (onlyFrom) {
    const now = row?.current && !onlyFrom.includes(row.current) ? row.current : await stepStatus(db, step);
    if (!onlyFrom.includes(now)) return now;
  }
  if (!row?.fenced) throw staleToken(lease);
  throw new UpshiftError('STALE_FENCING_TOKEN', `step ${step.kind}/${step.key} was written with a newer token`, {
    context: { runId: step.runId, step: step.key, token: lease.token },
  });
}

/**
 * Records progress under a lease in the caller's transaction: refused (STALE_FENCING_TOKEN) unless the
 * lease is current and no write with a newer token has landed on this step (`writeFenced`).
 */
export async function saveCheckpoint(tx: TxClient, step: StepKey, update: FencedUpdate, lease: Pick<Lease, 'name' | 'token'>): Promise<void> {
  await writeFenced(tx, step, update, lease);
}

/** A wave (or a wave's revert) as rollout keeps it: no lease, a run's events are handled in order. */
export interface WaveStep<C> {
  readonly status: StepStatus;
  readonly attempt: number;
  readonly checkpoint: C | undefined;
}

/** Reads a wave or revert step (`pending` and no checkpoint when it was never written). */
export async function readWaveStep<C>(db: Queryable, runId: string, kind: 'wave' | 'revert', wave: number): Promise<WaveStep<C>> {
  const found = await readStep(db, { runId, kind, key: String(wave) });
  return { status: found?.status ?? 'pending', attempt: found?.attempt ?? 0, checkpoint: (found?.checkpoint ?? undefined) as C | undefined };
}

/**
 * Writes a wave or revert step's status and checkpoint (created on its first write; `startedAt` is when
 * its work began, epoch ms). A final status also sets when it finished.
 */
export async function writeWaveStep(
  tx: TxClient, runId: string, kind: 'wave' | 'revert', wave: number, update: { status: StepStatus; checkpoint: unknown; startedAt: number },
): Promise<void> {
  await tx.query(
    `INSERT INTO upshift.steps AS s (run_id, kind, key, status, checkpoint, attempt, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, 1, to_timestamp($6::double precision / 1000), CASE WHEN $4 IN ('completed', 'failed') THEN now() END)
     ON CONFLICT (run_id, kind, key) DO UPDATE
       SET status = EXCLUDED.status, checkpoint = EXCLUDED.checkpoint, attempt = s.attempt + 1, updated_at = now(),
           started_at = COALESCE(s.started_at, EXCLUDED.started_at),
           finished_at = CASE WHEN EXCLUDED.status IN ('completed', 'failed') THEN now() ELSE s.finished_at END`,
    [runId, kind, String(wave), update.status, JSON.stringify(update.checkpoint), update.startedAt],
  );
}

/** The waves a run has touched (a wave step exists), ascending. */
export async function touchedWaves(db: Queryable, runId: string): Promise<number[]> {
  const { rows } = await db.query<{ key: string }>(`SELECT key FROM upshift.steps WHERE run_id = $1 AND kind = 'wave'`, [runId]);
  return rows.map((r) => Number(r.key)).sort((a, b) => a - b);
}
