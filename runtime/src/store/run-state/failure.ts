/**
 * Carries out the run's answer to a failed stage (decided by `onStageFailed`) in a handler's decision:
 * the run's status, the `rollback` claim with its cause (so two failing stages start one rollback), and
 * the event that starts the first compensation — or the frozen run's `upgrade.failed`.
 */
import type { RunPlan } from '@upshift/events';
import type { Decision } from '../../host/function.ts';
import { onStageFailed, type RollbackCause } from '../../lifecycle/rollback.ts';
import { claimOnce } from './claims.ts';
import { setRunStatus } from './runs.ts';

/** Applies the plan's failure policy to a failed stage, once per run. */
export async function applyFailurePolicy(d: Decision, plan: RunPlan, failure: RollbackCause & { migrationsRun: readonly string[] }): Promise<void> {
  const outcome = onStageFailed(plan, failure);
  if (outcome.kind === 'freeze') {
    if (await setRunStatus(d.tx, plan.runId, 'failed')) d.emit('upgrade.failed', outcome.failed);
    return;
  }
  await setRunStatus(d.tx, plan.runId, 'rolling-back');
  if (!(await claimOnce(d.tx, plan.runId, 'rollback', outcome.cause))) return;
  if ('restore' in outcome) d.emit('rollback.requested', outcome.restore);
  else d.emit('image.revert.requested', outcome.revert);
}

/** Rolls back a frozen run an operator asked to (it is reopened `rolling-back` already): the compensations a `rollback` policy would run. */
export async function rollBackFrozen(d: Decision, plan: RunPlan, failure: RollbackCause & { migrationsRun: readonly string[] }): Promise<void> {
  await applyFailurePolicy(d, { ...plan, strategy: { ...plan.strategy, failurePolicy: 'rollback' } }, failure);
}
