/**
 * The store throttle's limits of a run: its policy's `spec.strategy.throttle` as the run's request
 * stored it, every field defaulted (a policy without the section gets the defaults that protect a busy
 * primary). The policy was validated when the run was requested; a stored section that no longer
 * parses (an older schema) falls back to the defaults rather than failing the shard.
 */
import { defaultStrategyThrottle, StrategyThrottle } from '@upshift/events/contract';
import { readRunFacts, type Queryable } from '@upshift/runtime';

/** The throttle limits of run `runId` (one primary-key read of the control store). */
export async function throttleLimitsOf(db: Queryable, runId: string): Promise<StrategyThrottle> {
  const policy = (await readRunFacts(db, runId))?.request.policy as { spec?: { strategy?: { throttle?: unknown } } } | undefined;
  const parsed = StrategyThrottle.safeParse(policy?.spec?.strategy?.throttle ?? {});
  return parsed.success ? parsed.data : defaultStrategyThrottle;
}
