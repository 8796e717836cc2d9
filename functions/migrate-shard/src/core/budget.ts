/**
 * Budget and throttling decisions of one invocation (pure). A shard may take longer than one HTTP
 * delivery may last, so an invocation stops starting batches when the next one would likely end past
 * its budget, and hands the shard over to a continuation event.
 */

/** What the invocation knows after a batch. */
export interface BudgetObservation {
  startedAt: number;
  now: number;
  budgetMs: number;
  /** Duration of the batch that just committed: the best guess for the next one. */
  lastBatchMs: number;
}

/** True when the next batch should not start in this invocation (hand over to a continuation). */
export function shouldHandOver(observation: BudgetObservation): boolean {
  const { startedAt, now, budgetMs, lastBatchMs } = observation;
  return now - startedAt + Math.max(0, lastBatchMs) >= budgetMs;
}

/** True when a progress event is due: none yet in this invocation, or the last one is `intervalMs` old. */
export function progressDue(lastReportedAt: number | null, now: number, intervalMs: number): boolean {
  return lastReportedAt === null || now - lastReportedAt >= intervalMs;
}
