/** The run plan in the control store: plan writes it once; rollout, migrate-shard and verify read it. */
import type { RunPlan } from '@upshift/events';
import type { TxClient } from './pool.ts';

/** Stores the plan with its run (the run row must exist). */
export async function savePlan(tx: TxClient, plan: RunPlan): Promise<void> {
  await tx.query(`UPDATE upshift.runs SET plan = $2, updated_at = now() WHERE id = $1`, [plan.runId, JSON.stringify(plan)]);
}

/** Reads a run's plan, or undefined when the run is unknown or was rejected before planning. */
export async function loadPlan(tx: Pick<TxClient, 'query'>, runId: string): Promise<RunPlan | undefined> {
  const { rows } = await tx.query<{ plan: RunPlan | null }>('SELECT plan FROM upshift.runs WHERE id = $1', [runId]);
  return rows[0]?.plan ?? undefined;
}
