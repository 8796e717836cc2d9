/** Data of the rollout events: waves, their continuation checks, outcomes, and image reverts. */
import { z } from 'zod';
import { ImageReference, RunId } from '../names.ts';
import { Count, Reason, Stage, WorkloadTarget } from './common.ts';

/** Patch one wave's images (0-based `wave` of `waves`) — consumed by rollout. */
export const RolloutWaveRequested = z.object({
  runId: RunId,
  wave: Count,
  waves: z.int().min(1),
  targets: z.array(WorkloadTarget).min(1),
});
export type RolloutWaveRequested = z.infer<typeof RolloutWaveRequested>;

/** A continuation: rollout looks at a wave again instead of blocking past one invocation. */
export const RolloutWaveCheck = z.object({
  runId: RunId,
  wave: Count,
  attempt: z.int().min(1),
  deadline: z.iso.datetime(),
});
export type RolloutWaveCheck = z.infer<typeof RolloutWaveCheck>;

/** A wave is rolled out everywhere (lifecycle); `previousImage` is what a rollback restores. */
export const RolloutWaveCompleted = z.object({
  runId: RunId,
  wave: Count,
  waves: z.int().min(1),
  targets: z.array(
    z.object({ service: z.string().min(1), cluster: z.string().min(1), image: ImageReference, previousImage: ImageReference }),
  ),
});
export type RolloutWaveCompleted = z.infer<typeof RolloutWaveCompleted>;

/** A wave did not become available (e.g. ProgressDeadlineExceeded) (lifecycle). */
export const RolloutWaveFailed = z.object({
  runId: RunId,
  wave: Count,
  reason: Reason,
  targets: z.array(z.object({ service: z.string().min(1), cluster: z.string().min(1), reason: Reason })),
});
export type RolloutWaveFailed = z.infer<typeof RolloutWaveFailed>;

/** Put the recorded previous images back (rollback) — consumed by rollout, which ends the run `upgrade.rolled-back`. */
export const ImageRevertRequested = z.object({
  runId: RunId,
  /** The stage that failed, reported in `upgrade.rolled-back`. */
  stage: Stage,
  reason: Reason,
  /** Shards whose data was restored before the images go back (0 when the rollout itself failed). */
  restoredShards: Count,
});
export type ImageRevertRequested = z.infer<typeof ImageRevertRequested>;

/** A continuation of a revert: rollout looks again at the wave it is putting back (newest first). */
export const ImageRevertCheck = z.object({
  runId: RunId,
  wave: Count,
  attempt: z.int().min(1),
  deadline: z.iso.datetime(),
});
export type ImageRevertCheck = z.infer<typeof ImageRevertCheck>;
