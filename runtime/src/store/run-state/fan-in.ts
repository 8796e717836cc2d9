/**
 * verify's fan-in: every shard's final outcome (kind `fanin`) and restore (kind `restored`) recorded once,
 * a row per shard, under the run row's lock (`lockRun`), so two instances handling the last two shards
 * at once cannot both miss the other's row: exactly one of them sees every shard final.
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
 * one transaction) and those recorded final under `kind`. The migration is the middle part of the shard
 * id `<runId>:<ref>:<index>` (neither run ids nor refs contain ':').
 */
export async function fanInByMigration(tx: TxClient, runId: string, kind: 'fanin' | 'restored'): Promise<Map<string, FanIn>> {
  const { rows } = await tx.query<{ migration: string; total: string; final: string; failed: string }>(
    `SELECT split_part(key, ':', 2) AS migration,
            count(*) FILTER (WHERE kind = 'shard') AS total,
            count(*) FILTER (WHERE kind = $2) AS final,
            count(*) FILTER (WHERE kind = $2 AND status = 'failed') AS failed
       FROM upshift.steps WHERE run_id = $1 AND kind IN ('shard', $2) GROUP BY 1`, [runId, kind]);
  return new Map(rows.map((row) => [row.migration, { total: Number(row.total), final: Number(row.final), failed: Number(row.failed) }]));
}

/** Per-shard outcomes recorded by the fan-in: failed shards with reasons, and shards and rows per migration. */
export async function shardOutcomes(tx: TxClient, runId: string): Promise<{ failed: string[]; rows: Map<string, { shards: number; rows: number }> }> {
  const { rows } = await tx.query<{ key: string; status: string; checkpoint: ShardOutcome }>(
    `SELECT key, status, checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = 'fanin' ORDER BY key`, [runId]);
  const failed = rows.filter((r) => r.status === 'failed').map((r) => `${r.key}: ${r.checkpoint.reason ?? 'failed'}`);
  const perMigration = new Map<string, { shards: number; rows: number }>();
  for (const row of rows) {
    const entry = perMigration.get(row.checkpoint.migration) ?? { shards: 0, rows: 0 };
    perMigration.set(row.checkpoint.migration, { shards: entry.shards + 1, rows: entry.rows + row.checkpoint.rows });
  }
  return { failed, rows: perMigration };
}
