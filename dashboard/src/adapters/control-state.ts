/** A run's control state for its page: the control store's view of it (written by verify alone). */
import { viewRunControl } from '@upshift/runtime';
import type { Queryable } from '../../../cli/src/watch/store.ts';
import type { ControlState } from '../core/run-document.ts';

/** The run's control state (a run nobody controlled is not paused, not throttled), or undefined without the controls schema. */
export async function readControlState(db: Queryable, runId: string): Promise<ControlState | undefined> {
  const view = await viewRunControl(db, runId);
  if (!view) return undefined;
  return {
    paused: view.paused, pausedMs: view.pausedMs, held: view.held,
    ...(view.pausedAt ? { pausedAt: view.pausedAt.toISOString() } : {}),
    ...(view.throttle && Object.keys(view.throttle).length > 0 ? { throttle: view.throttle } : {}),
    ...(view.gateWave !== undefined ? { gate: { wave: view.gateWave } } : {}),
    ...(view.updatedBy ? { updatedBy: view.updatedBy } : {}),
    ...(view.updatedAt ? { updatedAt: view.updatedAt.toISOString() } : {}),
    history: view.history.map((h) => ({ ...h, decidedAt: h.decidedAt.toISOString() })),
  };
}
