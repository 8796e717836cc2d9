/**
 * The store throttle's limits of a run: its policy's `spec.strategy.throttle` as the run's request
 * stored it, every field defaulted (a policy without the section gets the defaults that protect a busy
 * primary). The policy was validated when the run was requested; a stored section that no longer
 * parses (an older schema) falls back to the defaults rather than failing the shard.
 */
import { defaultStrategyThrottle, StrategyThrottle } from '@upshift/events/contract';

/** The throttle limits of a stored `strategy.throttle` section (undefined: none in the policy). */
export function throttleLimits(section: unknown): StrategyThrottle {
  const parsed = StrategyThrottle.safeParse(section ?? {});
  return parsed.success ? parsed.data : defaultStrategyThrottle;
}
