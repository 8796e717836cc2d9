import type { TxClient } from '@upshift/runtime';

/** Whether a run with this id was already planned (a re-sent request with a new event id). */
export async function runExists(tx: TxClient, runId: string): Promise<boolean> {
  const { rowCount } = await tx.query('SELECT 1 FROM upshift.runs WHERE id = $1', [runId]);
  return (rowCount ?? 0) > 0;
}

/** Other active runs holding any of these targets: "one run per target" is the unique index; this names the holder. */
export async function activeHolders(
  tx: TxClient,
  runId: string,
  targets: Array<{ kind: string; target: string }>,
): Promise<Array<{ kind: string; target: string; runId: string }>> {
  if (targets.length === 0) return [];
  const { rows } = await tx.query<{ kind: string; target: string; run_id: string }>(
    `SELECT kind, target, run_id FROM upshift.run_targets
      WHERE released_at IS NULL AND run_id <> $1 AND (kind, target) IN (SELECT * FROM unnest($2::text[], $3::text[]))
      ORDER BY kind, target`,
    [runId, targets.map((t) => t.kind), targets.map((t) => t.target)],
  );
  return rows.map((row) => ({ kind: row.kind, target: row.target, runId: row.run_id }));
}
