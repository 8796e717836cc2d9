import { HostConfig } from '@upshift/runtime';
import { z } from 'zod';

/** rollout's environment: the host's, plus how long one invocation watches a wave. */
export const RolloutConfig = HostConfig.extend({
  /** One invocation watches a wave at most this long, then hands over to a continuation event. */
  UPSHIFT_ROLLOUT_BUDGET_MS: z.coerce.number().int().min(0).max(300_000).default(15_000),
});
/** Parsed rollout configuration. */
export type RolloutConfig = z.infer<typeof RolloutConfig>;
