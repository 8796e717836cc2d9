/** What rollout keeps in a wave's (or a wave revert's) step between invocations. */
export interface WaveCheckpoint {
  /** When the images were patched: the wave's deadline counts from here. */
  patchedAt?: number;
  /** When every workload was first seen available (start of the soak). */
  succeededAt?: number;
  /** Workloads actually patched (those already at the image are not). */
  patched?: string[];
  /** Workloads whose cluster did not answer the patch: patched again on the next look. */
  unpatched?: string[];
  /** Last thing seen, for `upshift status` and after a crash. */
  lastSeen?: string;
  /** When the next look is due (epoch ms): the continuation waits until then. */
  recheckAt?: number;
  /** The run's time paused so far when the wave was patched: the deadlines move by the time paused since. */
  pausedMsAtPatch?: number;
}

/** Waits until the next look is due, at most `maxMs` (no transaction is open meanwhile). */
export async function untilRecheck(recheckAt: number | undefined, maxMs: number): Promise<void> {
  const waitMs = Math.min(Math.max(0, (recheckAt ?? 0) - Date.now()), maxMs);
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
}
