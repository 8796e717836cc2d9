/** How a run ended, from its terminal event or, when that was not seen, from the stored run status (pure). */
import { isSuccess, nameOf, type AnyUpshiftEvent, type EventData } from '@upshift/events';

/** How the run ended. */
export interface Outcome {
  readonly name: 'upgrade.completed' | 'upgrade.failed' | 'upgrade.rolled-back' | 'upgrade.rejected' | 'upgrade.planned';
  readonly success: boolean;
  readonly reason?: string;
  readonly durationMs?: number;
  readonly detail?: string;
  /** A failed run left as it stood (`failurePolicy: freeze`): an operator may retry or roll it back. */
  readonly frozen?: boolean;
}

/** The outcome a terminal event announces. */
export function outcomeOf(event: AnyUpshiftEvent): Outcome {
  const name = nameOf(event) as Outcome['name'];
  const success = isSuccess(event);
  switch (name) {
    case 'upgrade.completed': {
      const d = event.data as EventData<'upgrade.completed'>;
      return { name, success, durationMs: d.durationMs, detail: `${d.services.length} workloads at target, ${d.migrations.reduce((s, m) => s + m.rowsMigrated, 0)} rows/documents migrated` };
    }
    case 'upgrade.rolled-back': {
      const d = event.data as EventData<'upgrade.rolled-back'>;
      return { name, success, reason: d.reason, detail: `${d.revertedWorkloads} workloads reverted, ${d.restoredShards} shards restored` };
    }
    case 'upgrade.failed': {
      const d = event.data as EventData<'upgrade.failed'>;
      return { name, success, reason: d.reason, detail: `stopped in ${d.stage}${d.frozen ? ', left as is (freeze)' : ''}`, ...(d.frozen ? { frozen: true } : {}) };
    }
    case 'upgrade.rejected': {
      const d = event.data as EventData<'upgrade.rejected'>;
      return { name, success, reason: d.reason, detail: d.code };
    }
    default: return { name, success, detail: 'dry run planned' };
  }
}

/** The outcome recorded in the control store for a finished run whose terminal event was not seen. */
export function outcomeFromStatus(status: string): Outcome | undefined {
  switch (status) {
    case 'completed': return { name: 'upgrade.completed', success: true };
    case 'planned': return { name: 'upgrade.planned', success: true, detail: 'dry run planned' };
    case 'rolled-back': return { name: 'upgrade.rolled-back', success: false };
    case 'rejected': return { name: 'upgrade.rejected', success: false };
    case 'failed': return { name: 'upgrade.failed', success: false };
    default: return undefined;
  }
}
