/**
 * Fan-in in the control store. Every shard's final state is recorded once (a row per shard, insert-once),
 * under a lock on the run row so that two verify instances handling the last two shards at the same time
 * cannot both miss the other's row: exactly one of them sees every shard final.
 */
import type { TxClient } from '@upshift/runtime';
import type { FanIn } from '../core/verdict.ts';

/** Locks the run for this transaction and returns its status, or undefined for an unknown run. */
export async function lockRun(tx: TxClient, runId: string): Promise<{ status: string; createdAt: Date; request: { policy?: unknown } } | undefined> {
  const { rows } = await tx.query<{ status: string; created_at: Date; request: { policy?: unknown } }>(
    'SELECT status, created_at, request FROM upshift.runs WHERE id = $1 FOR UPDATE', [runId]);
  const row = rows[0];
  return row ? { status: row.status, createdAt: row.created_at, request: row.request } : undefined;
}

/** Records a final state of one shard (`kind` fanin or restored); false when it was already recorded. */
export async function recordFinal(tx: TxClient, runId: string, kind: 'fanin' | 'restored', shardId: string, outcome: { status: string; rows: number; reason?: string; migration: string }): Promise<boolean> {
  const result = await tx.query(
    `INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint, started_at, finished_at)
     VALUES ($1, $2, $3, $4, $5, now(), now()) ON CONFLICT DO NOTHING`,
    [runId, kind, shardId, outcome.status, JSON.stringify(outcome)],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Shards planned by migrate-shard (its `shard` steps) against those recorded final under `kind`. */
export async function fanInOf(tx: TxClient, runId: string, kind: 'fanin' | 'restored'): Promise<FanIn> {
  const { rows } = await tx.query<{ total: string; final: string; failed: string }>(
    `SELECT count(*) FILTER (WHERE kind = 'shard') AS total,
            count(*) FILTER (WHERE kind = $2) AS final,
            count(*) FILTER (WHERE kind = $2 AND status = 'failed') AS failed
       FROM upshift.steps WHERE run_id = $1`, [runId, kind]);
  const row = rows[0];
  return { total: Number(row?.total ?? 0), final: Number(row?.final ?? 0), failed: Number(row?.failed ?? 0) };
}

/** Claims a one-time action of the run (e.g. the verification); false when it was claimed before. */
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

/** Per-shard outcomes recorded by the fan-in: failed shards with reasons, and rows per migration. */
export async function shardOutcomes(tx: TxClient, runId: string): Promise<{ failed: string[]; rows: Map<string, { shards: number; rows: number }> }> {
  const { rows } = await tx.query<{ key: string; status: string; checkpoint: { rows: number; reason?: string; migration: string } }>(
    `SELECT key, status, checkpoint FROM upshift.steps WHERE run_id = $1 AND kind = 'fanin' ORDER BY key`, [runId]);
  const failed = rows.filter((r) => r.status === 'failed').map((r) => `${r.key}: ${r.checkpoint.reason ?? 'failed'}`);
  const perMigration = new Map<string, { shards: number; rows: number }>();
  for (const row of rows) {
    const entry = perMigration.get(row.checkpoint.migration) ?? { shards: 0, rows: 0 };
    perMigration.set(row.checkpoint.migration, { shards: entry.shards + 1, rows: entry.rows + row.checkpoint.rows });
  }
  return { failed, rows: perMigration };
}
