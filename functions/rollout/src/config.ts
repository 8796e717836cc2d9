import { HostConfig } from '@upshift/runtime';
import { z } from 'zod';

/** rollout's environment: the host's, plus how long a continuation may wait before it looks again. */
export const RolloutConfig = HostConfig.extend({
  /**
   * A continuation (`rollout.wave.check`, `image.revert.check`) waits until the wave's next look is due,
   * but never longer than this, outside any transaction; then it looks once and decides.
   */
  UPSHIFT_ROLLOUT_MAX_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
});
/** Parsed rollout configuration. */
export type RolloutConfig = z.infer<typeof RolloutConfig>;
