import type { WaveDecision } from './core/wave-decision.ts';

/**
 * Looks again and again until the decision is final or the next look would fall past this invocation's
 * budget; returns the last decision (a `wait` or `soak` one means: hand over to a continuation event).
 */
export async function watchWithinBudget(budgetMs: number, look: () => Promise<WaveDecision>): Promise<WaveDecision> {
  const budgetEnds = Date.now() + budgetMs;
  for (;;) {
    const decision = await look();
    if (decision.kind === 'completed' || decision.kind === 'failed') return decision;
    if (Date.now() + decision.recheckAfterMs >= budgetEnds) return decision;
    await new Promise((resolve) => setTimeout(resolve, decision.recheckAfterMs));
  }
}
