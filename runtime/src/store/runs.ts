/**
 * Runs, the targets they hold, and their steps (waves, shards, checks) with status, attempt and
 * checkpoint. "One active run per workload / migration target" is the unique partial index
 * run_targets_one_active, not an in-memory check.
 */
import { UpshiftError } from '../errors.ts';
import { wrapError } from '../wrap-error.ts';
import { assertFence } from './leases.ts';
import type { Lease } from './leases.ts';
import type { TxClient } from './pool.ts';

/** What a run holds exclusively while it is active. */
export interface RunTarget {
  readonly kind: 'workload' | 'migration';
  readonly target: string;
}

/** Identifies one step of a run. */
export interface StepKey {
  readonly runId: string;
  readonly kind: string;
  readonly key: string;
}

/** A step as stored. */
export interface Step extends StepKey {
  readonly status: string;
  readonly attempt: number;
  readonly checkpoint: unknown;
  readonly fencingToken: number;
}

/** Creates the run (idempotent: a second call with the same id is a no-op) and claims its targets. */
export async function startRun(tx: TxClient, runId: string, request: unknown, targets: readonly RunTarget[]): Promise<void> {
  await tx.query(`INSERT INTO upshift.runs (id, status, request) VALUES ($1, 'running', $2) ON CONFLICT (id) DO NOTHING`, [
    runId, JSON.stringify(request),
  ]);
  for (const target of targets) {
    try {
      await tx.query('SAVEPOINT claim_target');
      await tx.query(
        `INSERT INTO upshift.run_targets (run_id, kind, target) VALUES ($1, $2, $3) ON CONFLICT (run_id, kind, target) DO NOTHING`,
        [runId, target.kind, target.target],
      );
      await tx.query('RELEASE SAVEPOINT claim_target');
    } catch (err) {
      throw activeRunConflict(err, runId, target);
    }
  }
}

function activeRunConflict(err: unknown, runId: string, target: RunTarget): UpshiftError {
  const sqlState = (err as { code?: unknown }).code;
  if (sqlState !== '23505') return wrapError(err, { operation: 'run.claim', runId });
  return new UpshiftError('CONFLICT', `${target.kind} ${target.target} already belongs to another active run`, {
    cause: err,
    context: { runId, kind: target.kind, target: target.target },
  });
}

/** Sets the run status; a final status releases its targets for the next run. */
export async function finishRun(tx: TxClient, runId: string, status: string): Promise<void> {
  await tx.query(`UPDATE upshift.runs SET status = $2, updated_at = now(), finished_at = now() WHERE id = $1`, [runId, status]);
  await tx.query(`UPDATE upshift.run_targets SET released_at = now() WHERE run_id = $1 AND released_at IS NULL`, [runId]);
}

/** Creates the step if absent and returns it as stored. */
export async function ensureStep(tx: TxClient, step: StepKey): Promise<Step> {
  await tx.query(`INSERT INTO upshift.steps (run_id, kind, key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
    step.runId, step.kind, step.key,
  ]);
  const found = await readStep(tx, step);
  if (!found) throw new UpshiftError('INTERNAL', `step ${step.kind}/${step.key} vanished`, { context: { ...step } });
  return found;
}

/** Reads a step, or undefined. */
export async function readStep(tx: Pick<TxClient, 'query'>, step: StepKey): Promise<Step | undefined> {
  const { rows } = await tx.query<{ status: string; attempt: number; checkpoint: unknown; fencing_token: string }>(
    `SELECT status, attempt, checkpoint, fencing_token FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3`,
    [step.runId, step.kind, step.key],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { ...step, status: row.status, attempt: row.attempt, checkpoint: row.checkpoint, fencingToken: Number(row.fencing_token) };
}

/**
 * Records progress under a lease: refused (STALE_FENCING_TOKEN) unless the lease is current and no
 * write with a newer token has landed on this step.
 */
export async function saveCheckpoint(
  tx: TxClient,
  step: StepKey,
  update: { status?: string; checkpoint: unknown; newAttempt?: boolean },
  lease: Pick<Lease, 'name' | 'token'>,
): Promise<void> {
  await assertFence(tx, lease.name, lease.token);
  const result = await tx.query(
    `UPDATE upshift.steps SET checkpoint = $4, status = COALESCE($5, status), fencing_token = $6,
            attempt = attempt + CASE WHEN $7 THEN 1 ELSE 0 END, updated_at = now(),
            started_at = COALESCE(started_at, now()),
            finished_at = CASE WHEN $5 IN ('completed', 'failed') THEN now() ELSE finished_at END
      WHERE run_id = $1 AND kind = $2 AND key = $3 AND fencing_token <= $6`,
    [step.runId, step.kind, step.key, JSON.stringify(update.checkpoint), update.status ?? null, lease.token, update.newAttempt === true],
  );
  if (result.rowCount === 0) {
    throw new UpshiftError('STALE_FENCING_TOKEN', `step ${step.kind}/${step.key} was written with a newer token`, {
      context: { runId: step.runId, step: step.key, token: lease.token },
    });
  }
}

/**
 * Claims a one-time action of the run (a `once` step: the verification, the rollback, the next wave after
 * a migration); false when it was claimed before. The primary key makes it exactly once across instances
 * and redeliveries; `detail` is kept with it (e.g. why a rollback started, read when the restores are in).
 */
export async function claimOnce(tx: TxClient, runId: string, action: string, detail: unknown = {}): Promise<boolean> {
  const result = await tx.query(
    `INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint, started_at) VALUES ($1, 'once', $2, 'running', $3, now()) ON CONFLICT DO NOTHING`,
    [runId, action, JSON.stringify(detail)]);
  return (result.rowCount ?? 0) > 0;
}

/** Marks a one-time action done (status shows when the verification or revert happened). */
export async function finishOnce(tx: TxClient, runId: string, action: string): Promise<void> {
  await tx.query(`UPDATE upshift.steps SET status = 'completed', finished_at = now(), updated_at = now() WHERE run_id = $1 AND kind = 'once' AND key = $2`, [runId, action]);
}

/** The detail stored with a one-time action. */
export async function onceDetail<T>(tx: TxClient, runId: string, action: string): Promise<T | undefined> {
  const { rows } = await tx.query<{ checkpoint: T }>(`SELECT checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = 'once' AND key = $2`, [runId, action]);
  return rows[0]?.checkpoint;
}
