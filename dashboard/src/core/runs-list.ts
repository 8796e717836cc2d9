/** The runs list (pure): the recent runs of the control store as the list page shows them. */
import { outcomeFromStatus } from '../../../cli/src/watch/state.ts';

/** A runs row as the store gives it. */
export interface StoredRun {
  readonly id: string;
  readonly status: string;
  readonly policyName: string | undefined;
  readonly createdAt: Date;
  readonly finishedAt: Date | undefined;
}

/** One line of the runs list. */
export interface RunListEntry {
  readonly id: string;
  readonly state: string;
  readonly policyName: string | null;
  readonly startedAt: number;
  readonly durationMs: number;
  /** succeeded / failed once the run ended (ended: a status without a verdict, e.g. abandoned), else null. */
  readonly outcome: 'succeeded' | 'failed' | 'ended' | null;
  readonly finished: boolean;
}

/** The runs list document. */
export interface RunsDocument {
  readonly runs: readonly RunListEntry[];
}

/** The list entries of `runs` (newest first, as given) at `now`. */
export function runsDocument(runs: readonly StoredRun[], now: number): RunsDocument {
  return {
    runs: runs.map((run) => {
      const end = run.finishedAt?.getTime() ?? now;
      const outcome = run.finishedAt ? outcomeFromStatus(run.status) : undefined;
      return {
        id: run.id, state: run.status, policyName: run.policyName ?? null, startedAt: run.createdAt.getTime(),
        durationMs: Math.max(0, end - run.createdAt.getTime()), finished: run.finishedAt !== undefined,
        outcome: !run.finishedAt ? null : outcome === undefined ? 'ended' : outcome.success ? 'succeeded' : 'failed',
      };
    }),
  };
}
