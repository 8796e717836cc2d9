/**
 * verify consumes the dead-letter topic: an event of a run that delivery gave up on is redriven (a
 * transient cause, with backoff, a bounded number of times) or ends the run with its failure policy and a
 * reason naming the event, the stage and the cause (`onDeadLetter`, the run lifecycle). The wait before a
 * redrive happens with no transaction open; `upshift status` lists the run's dead letters.
 */
import { isEventOf, type AnyUpshiftEvent } from '@upshift/events';
import {
  finalRunStatuses, onDeadLetter, readRunFacts, recordDeadLetter, redrivesOf, setRunStatus, startRun, type DeadLetter, type DeadLetterDecision, type Decision,
  type HandlerContext,
} from '@upshift/runtime';
import { failRun } from './fail-run.ts';
import type { VerifyConfig } from './config.ts';

type Ctx = HandlerContext<VerifyConfig>;

/** Handles one dead letter: looks at the run, waits out a redrive's backoff, then decides once. */
export async function deadLettered(ctx: Ctx, event: AnyUpshiftEvent, letter: DeadLetter): Promise<void> {
  const runId = (event.data as { runId?: unknown }).runId;
  if (typeof runId !== 'string') return;
  const run = await readRunFacts(ctx.store, runId);
  const redrives = run ? await redrivesOf(ctx.store, runId, event.id) : 0;
  const decided = onDeadLetter(letter, { redrives, limit: run ? ctx.config.UPSHIFT_REDRIVE_LIMIT : 0, runEnded: run !== undefined && finalRunStatuses.has(run.status) });
  // An operator's control that could not be delivered is redriven like any event, but never fails the run.
  const decision: DeadLetterDecision = decided.kind === 'fail' && isEventOf(event, 'run.control.requested')
    ? { kind: 'record', why: `a control is never a reason to end the run: ${decided.reason}` }
    : decided;
  ctx.log.warn({ deadLetter: letter, decision }, `dead letter of run ${runId}: ${decision.kind}`);
  if (decision.kind === 'redrive') await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
  await ctx.decide(async (d) => {
    if (!run) return isEventOf(event, 'run.control.requested') ? undefined : failUnknownRun(d, runId, letter);
    const record = { type: letter.type, destination: letter.destination, status: letter.status, reason: letter.reason, decision: decision.kind };
    if (decision.kind === 'redrive') {
      await recordDeadLetter(d.tx, runId, event.id, { ...record, redrives: decision.redrive });
      await d.redrive(event);
      return;
    }
    await recordDeadLetter(d.tx, runId, event.id, { ...record, redrives });
    if (decision.kind === 'fail') await failRun(d, runId, run.status, decision);
  });
}

/** A run the control store never saw (its request was dead-lettered before plan took it): recorded as failed, so nobody waits on it. */
async function failUnknownRun(d: Decision, runId: string, letter: DeadLetter): Promise<void> {
  const reason = `${letter.type} ${letter.id} was dead-lettered before the run was planned: HTTP ${letter.status}${letter.reason ? `: ${letter.reason}` : ''}`.slice(0, 2000);
  if (!(await startRun(d.tx, runId, { deadLettered: letter.type }, []))) return;
  await setRunStatus(d.tx, runId, 'failed');
  await recordDeadLetter(d.tx, runId, letter.id, { type: letter.type, destination: letter.destination, status: letter.status, reason: letter.reason, decision: 'fail', redrives: 0 });
  d.emit('upgrade.failed', { runId, stage: 'plan', reason, failurePolicy: 'freeze', frozen: true });
}
