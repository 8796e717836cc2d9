import type { TxClient } from '@upshift/runtime';

/** What rollout remembers about a wave (or a revert) between invocations. */
export interface WaveCheckpoint {
  /** When the images were patched: the wave's deadline counts from here. */
  patchedAt?: number;
  /** When every workload was first seen available (start of the soak). */
  succeededAt?: number;
  /** Workloads actually patched (those already at the image are not). */
  patched?: string[];
  /** Last thing seen, for `upshift status` and after a crash. */
  lastSeen?: string;
}

/** A rollout step: kind `wave` or `revert`, key the wave index. */
export interface RolloutStep {
  status: string;
  attempt: number;
  checkpoint: WaveCheckpoint;
}

/**
 * Reads (creating when absent) a rollout step. Rollout needs no lease: events of a run share a partition
 * key, so one consumer handles them in order, and the inbox makes redeliveries no-ops.
 */
export async function readRolloutStep(tx: TxClient, runId: string, kind: 'wave' | 'revert', wave: number): Promise<RolloutStep> {
  // Created when the wave's (or revert's) first event is handled: that is when it started.
  await tx.query(`INSERT INTO upshift.steps (run_id, kind, key, started_at) VALUES ($1, $2, $3, clock_timestamp()) ON CONFLICT DO NOTHING`, [runId, kind, String(wave)]);
  const { rows } = await tx.query<{ status: string; attempt: number; checkpoint: WaveCheckpoint | null }>(
    `SELECT status, attempt, checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = $2 AND key = $3 FOR UPDATE`,
    [runId, kind, String(wave)],
  );
  const row = rows[0];
  return { status: row?.status ?? 'pending', attempt: row?.attempt ?? 0, checkpoint: row?.checkpoint ?? {} };
}

/** Saves a rollout step's status and checkpoint. */
export async function writeRolloutStep(tx: TxClient, runId: string, kind: 'wave' | 'revert', wave: number, update: { status: string; checkpoint: WaveCheckpoint }): Promise<void> {
  await tx.query(
    // clock_timestamp(), not now(): the handling transaction began before the wave was watched.
    `UPDATE upshift.steps SET status = $4, checkpoint = $5, attempt = attempt + 1, updated_at = clock_timestamp(),
            started_at = COALESCE(started_at, clock_timestamp()),
            finished_at = CASE WHEN $4 IN ('completed', 'failed') THEN clock_timestamp() ELSE finished_at END
      WHERE run_id = $1 AND kind = $2 AND key = $3`,
    [runId, kind, String(wave), update.status, JSON.stringify(update.checkpoint)],
  );
}

/** The waves a run has touched (a step exists), for the revert. */
export async function touchedWaves(tx: TxClient, runId: string): Promise<number[]> {
  const { rows } = await tx.query<{ key: string }>(`SELECT key FROM upshift.steps WHERE run_id = $1 AND kind = 'wave'`, [runId]);
  return rows.map((r) => Number(r.key)).sort((a, b) => a - b);
}
