/**
 * A frozen run in the control store: one that failed and rolled nothing back (its policy froze it, or an
 * abort of a `freeze` run did), so data and images stand where they stopped for a person to decide. An
 * operator's retry makes it go on and an abort rolls it back: both reopen it — the one exception to "a
 * final status is never left", made only by verify under the run's lock for such a control — and claim
 * its targets again (refused, naming the holder, when another active run took one since).
 */
import { catalogue, type RunPlan, type Stage } from '@upshift/events';
import type { FrozenFacts } from '../../lifecycle/controls.ts';
import type { StepStatus } from '../../lifecycle/statuses.ts';
import { UpshiftError } from '../../errors.ts';
import type { Queryable } from '../leases.ts';
import type { TxClient } from '../pool.ts';
import { isClaimed } from './claims.ts';

const failedType = catalogue['upgrade.failed'].type;

/** Where a failed run froze and what would stop it from going on; undefined when it did not freeze (it rolled back, or failed its rollback). */
export async function frozenFacts(db: Queryable, plan: RunPlan): Promise<FrozenFacts | undefined> {
  const { runId } = plan;
  if (await isClaimed(db, runId, 'rollback')) return undefined;
  const { rows } = await db.query<{ data: { stage?: Stage; reason?: string; frozen?: boolean } }>(
    `SELECT event->'data' AS data FROM upshift.outbox WHERE partition_key = $1 AND type = $2 ORDER BY seq DESC LIMIT 1`, [runId, failedType]);
  const failed = rows[0]?.data;
  if (failed?.frozen !== true || failed.stage === undefined) return undefined;
  const { rows: steps } = await db.query<{ key: string; status: StepStatus }>(`SELECT key, status FROM upshift.steps WHERE run_id = $1 AND kind = 'wave'`, [runId]);
  const byWave = new Map(steps.map((s) => [Number(s.key), s.status]));
  const waves = plan.waves.map((_, wave): StepStatus => byWave.get(wave) ?? 'pending');
  return { stage: failed.stage, reason: failed.reason ?? 'frozen', waves, takenBy: await targetsTakenSince(db, runId) };
}

/** The run's targets that another active run holds now, as `kind target (run id)`. */
async function targetsTakenSince(db: Queryable, runId: string): Promise<string[]> {
  const { rows } = await db.query<{ kind: string; target: string; run_id: string }>(
    `SELECT o.kind, o.target, o.run_id FROM upshift.run_targets t
       JOIN upshift.run_targets o ON o.kind = t.kind AND o.target = t.target AND o.run_id <> t.run_id AND o.released_at IS NULL
      WHERE t.run_id = $1 ORDER BY o.kind, o.target LIMIT 20`, [runId]);
  return rows.map((r) => `${r.kind} ${r.target} (run ${r.run_id})`);
}

/**
 * Reopens a frozen (failed) run: `running` for a retry, `rolling-back` for its rollback, and claims its
 * targets again. False when the run is not failed any more (a copy of the control acted first).
 */
export async function reopenFrozenRun(tx: TxClient, runId: string, to: 'running' | 'rolling-back'): Promise<boolean> {
  const reopened = await tx.query(
    `UPDATE upshift.runs SET status = $2, finished_at = NULL, updated_at = now() WHERE id = $1 AND status = 'failed'`, [runId, to]);
  if ((reopened.rowCount ?? 0) === 0) return false;
  try {
    await tx.query('SAVEPOINT reclaim_targets');
    await tx.query(`UPDATE upshift.run_targets SET released_at = NULL WHERE run_id = $1 AND released_at IS NOT NULL`, [runId]);
    await tx.query('RELEASE SAVEPOINT reclaim_targets');
  } catch (err) {
    if ((err as { code?: unknown }).code !== '23505') throw err;
    // Another run claimed a target between the look and now: the control is redelivered and then refused, naming it.
    throw new UpshiftError('CONFLICT', `run ${runId}: a target was claimed by another run while the frozen run reopened`, { cause: err, context: { runId } });
  }
  return true;
}

/** A wave of a reopened run starts over: its step goes back to `pending` without a checkpoint (patched again, a new deadline). */
export async function restartWave(tx: TxClient, runId: string, wave: number): Promise<void> {
  await tx.query(
    `UPDATE upshift.steps SET status = 'pending', checkpoint = NULL, started_at = NULL, finished_at = NULL, updated_at = now()
      WHERE run_id = $1 AND kind = 'wave' AND key = $2`, [runId, String(wave)]);
}

/** Lets a reopened run take its verdict again: the `verify` claim of the stage that froze it is forgotten. */
export async function forgetVerdict(tx: TxClient, runId: string): Promise<void> {
  await tx.query(`DELETE FROM upshift.steps WHERE run_id = $1 AND kind = 'once' AND key = 'verify'`, [runId]);
}
