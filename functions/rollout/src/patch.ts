/**
 * Patching a wave's (or a wave revert's) images with clusters that may not answer: the targets of a
 * cluster that did not answer are remembered in the checkpoint and patched again on the next look, until
 * the wave's deadline decides; a target the API refused for good (403, 404, 422) is returned as failed.
 */
import type { PlannedTarget, RunPlan } from '@upshift/events';
import { patchTargets, type ClusterRegistry, type TargetPhase } from '@upshift/workloads';
import type { WaveCheckpoint } from './adapters/steps.ts';

/** The key of a target in a checkpoint's `patched` and `unpatched` lists. */
export const targetKey = (t: { service: string; cluster: string }): string => `${t.service}@${t.cluster}`;

/** What a patch pass left: the checkpoint to keep, and the targets refused for good (empty when none). */
export interface PatchPass {
  checkpoint: WaveCheckpoint;
  refused: TargetPhase[];
}

/**
 * Patches the targets not patched yet (all of them on the first pass, then those of clusters that did not
 * answer) and records the pass. The first pass sets `patchedAt`, from which the deadlines count.
 */
export async function patchPending(
  plan: RunPlan,
  registry: ClusterRegistry,
  targets: PlannedTarget[],
  checkpoint: WaveCheckpoint,
  change: (t: PlannedTarget) => { image: string; previousImage: string },
): Promise<PatchPass> {
  const firstPass = checkpoint.patchedAt === undefined;
  const pending = firstPass ? targets : targets.filter((t) => checkpoint.unpatched?.includes(targetKey(t)));
  if (pending.length === 0) return { checkpoint, refused: [] };
  const { patched, failures } = await patchTargets(plan, registry, pending, change);
  const unanswered = failures.filter((f) => f.phase.phase === 'Unreachable').map(targetKey);
  const next: WaveCheckpoint = {
    ...checkpoint,
    patchedAt: checkpoint.patchedAt ?? Date.now(),
    patched: [...(checkpoint.patched ?? []), ...patched],
  };
  if (unanswered.length > 0) next.unpatched = unanswered;
  else delete next.unpatched;
  return { checkpoint: next, refused: failures.filter((f) => f.phase.phase === 'Failed') };
}
