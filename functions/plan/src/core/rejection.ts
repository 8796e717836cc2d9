/**
 * The `upgrade.rejected` answer to a request, bounded by construction so that emitting it cannot fail:
 * problems are capped with "and N more", paths and messages escaped and cut, the reason cut; the data is
 * checked against the event's schema before it is handed back, and anything that still does not fit is
 * replaced by a short rejection that always does. A bad request gets its answer, never a dead letter.
 */
import { boundProblems, boundText, problemLimits, UpgradeRejected } from '@upshift/events/contract';
import type { EventData, FieldProblem } from '@upshift/events/contract';

/** Data of `upgrade.rejected`. */
export type Rejection = EventData<'upgrade.rejected'>;

/** Why a request is refused. */
export type RejectCode = Rejection['code'];

/** What plan wants to say about a refused request, of any size. */
export interface RejectionInput {
  readonly runId: string;
  readonly policyName?: string | undefined;
  readonly code: RejectCode;
  readonly reason: string;
  readonly problems: readonly FieldProblem[];
}

/** The `upgrade.rejected` data for `input`: valid against the schema whatever `input` holds (its run id aside). */
export function rejectionOf(input: RejectionInput): Rejection {
  try {
    const reason = boundText(input.reason, problemLimits.reasonChars) || `the request was refused (${input.code})`;
    const data = {
      runId: input.runId, ...(input.policyName ? { policyName: input.policyName } : {}), code: input.code, reason, problems: boundProblems(input.problems),
    };
    const checked = UpgradeRejected.safeParse(data);
    if (checked.success) return checked.data;
  } catch {
    // a problem that is not text after all: fall through to the rejection that always fits
  }
  return shortRejection(input);
}

/** The rejection that always fits: run id, code, and a reason saying the details could not be reported. */
export function shortRejection(input: Pick<RejectionInput, 'runId' | 'code' | 'problems'>): Rejection {
  return {
    runId: input.runId,
    code: input.code,
    reason: `the request was refused (${input.code}); its ${input.problems.length} problem(s) could not be reported`,
    problems: [],
  };
}
