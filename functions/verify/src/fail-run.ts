/** Ending a run that cannot go on (a dead letter past its redrives, a run stuck for good). */
import type { Stage } from '@upshift/events';
import { applyFailurePolicy, loadPlan, migrationsWithShards, setRunStatus, type Decision, type RunStatus } from '@upshift/runtime';

/**
 * Fails the run: with its failure policy while it runs (freeze, or the rollback's compensations), and
 * outright when it is its rollback that cannot go on (a rollback of the rollback would not end either).
 */
export async function failRun(d: Decision, runId: string, status: RunStatus, failure: { stage: Stage; reason: string }): Promise<void> {
  const plan = await loadPlan(d.tx, runId);
  if (plan && status === 'running' && failure.stage !== 'rollback') {
    return applyFailurePolicy(d, plan, { stage: failure.stage, reason: failure.reason, migrationsRun: await migrationsWithShards(d.tx, runId) });
  }
  if (!(await setRunStatus(d.tx, runId, 'failed'))) return;
  d.emit('upgrade.failed', { runId, stage: failure.stage, reason: failure.reason, failurePolicy: plan?.strategy.failurePolicy ?? 'freeze', frozen: false });
}
