/**
 * verify's fan-in: every shard's final outcome (kind `fanin`) and restore (kind `restored`) recorded once,
 * a row per shard, under the run row's lock (`lockRun`), so two instances handling the last two shards
 * at once cannot both miss the other's row: exactly one of them sees every shard final. The counts come
 * from tallies kept by the insert (schema version 5), so a fan-in never reads every shard of the run.
 */
import type { FanIn } from '../../lifecycle/stages.ts';
import type { StepStatus } from '../../lifecycle/statuses.ts';
import type { TxClient } from '../pool.ts';

/** A shard's final outcome as the fan-in records it. */
export interface ShardOutcome {
  status: Extract<StepStatus, 'completed' | 'failed' | 'restored'>;
  rows: number;
  migration: string;
  reason?: string;
  conflicts?: number;
  created?: number;
}

/** Records a final outcome of one shard; false when it was recorded before. */
export async function recordFinal(tx: TxClient, runId: string, kind: 'fanin' | 'restored', shardId: string, outcome: ShardOutcome): Promise<boolean> {
  const result = await tx.query(
    `INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, now(), now()) ON CONFLICT DO NOTHING`,
    [runId, kind, shardId, outcome.status, JSON.stringify(outcome)],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Shards planned by migrate-shard (its `shard` steps) against those recorded final under `kind`, over the run. */
export async function fanInOf(tx: TxClient, runId: string, kind: 'fanin' | 'restored'): Promise<FanIn> {
  const total: FanIn = { total: 0, final: 0, failed: 0 };
  for (const one of (await fanInByMigration(tx, runId, kind)).values()) {
    total.total += one.total;
    total.final += one.final;
    total.failed += one.failed;
  }
  return total;
}

/**
 * The fan-in per migration: its `shard` steps (recorded at fan-out, all of one `migration.requested` in
 * one transaction) and those recorded final under `kind`, as tallied when the steps were inserted
 * (`upshift.shard_tallies`, schema version 5): a few rows per run, however many shards it has.
 */
export async function fanInByMigration(tx: TxClient, runId: string, kind: 'fanin' | 'restored'): Promise<Map<string, FanIn>> {
  const { rows } = await tx.query<{ migration: string; total: string; final: string; failed: string }>(
    `SELECT migration,
            coalesce(sum(shards) FILTER (WHERE kind = 'shard'), 0) AS total,
            coalesce(sum(shards) FILTER (WHERE kind = $2), 0) AS final,
            coalesce(sum(failed) FILTER (WHERE kind = $2), 0) AS failed
       FROM upshift.shard_tallies WHERE run_id = $1 AND kind IN ('shard', $2) GROUP BY 1`, [runId, kind]);
  return new Map(rows.map((row) => [row.migration, { total: Number(row.total), final: Number(row.final), failed: Number(row.failed) }]));
}

/** The most failed shards `shardOutcomes` lists by name (the count is always whole). */
export const listedFailedShards = 100;

/**
 * Per-shard outcomes recorded by the fan-in: failed shards with reasons (at most `listedFailedShards`,
 * then how many more), and shards and rows per migration (from the tallies).
 */
export async function shardOutcomes(tx: TxClient, runId: string): Promise<{ failed: string[]; rows: Map<string, { shards: number; rows: number }> }> {
  const { rows: tallies } = await tx.query<{ migration: string; shards: number; failed: number; rows: string }>(
    `SELECT migration, sum(shards)::integer AS shards, sum(failed)::integer AS failed, sum(rows) AS rows
       FROM upshift.shard_tallies WHERE run_id = $1 AND kind = 'fanin' GROUP BY migration ORDER BY migration`, [runId]);
  const failedCount = tallies.reduce((sum, t) => sum + t.failed, 0);
  const failed: string[] = [];
  if (failedCount > 0) {
    const { rows } = await tx.query<{ key: string; checkpoint: ShardOutcome }>(
      `SELECT key, checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = 'fanin' AND status = 'failed' ORDER BY key LIMIT $2`,
      [runId, listedFailedShards]);
    failed.push(...rows.map((r) => `${r.key}: ${r.checkpoint.reason ?? 'failed'}`));
    if (failedCount > rows.length) failed.push(`… and ${failedCount - rows.length} more failed shards`);
  }
  return { failed, rows: new Map(tallies.map((t) => [t.migration, { shards: t.shards, rows: Number(t.rows) }])) };
}
