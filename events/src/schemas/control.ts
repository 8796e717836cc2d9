/**
 * Operator controls of a run: a request (from the CLI or the dashboard) to pause, resume, throttle,
 * abort, retry or promote it, and what came of it. verify is the run's coordinator and the single
 * writer of its control state; both events are keyed by the run id, so the controls of one run are
 * handled in order (one partition). The same `controlId` twice acts once.
 */
import { z } from 'zod';
import { RunId, ShardId } from '../names.ts';
import { Count } from './common.ts';

/** What an operator asks of a run. */
export const ControlAction = z.enum(['pause', 'resume', 'throttle', 'abort', 'retry', 'promote']);
export type ControlAction = z.infer<typeof ControlAction>;

/**
 * How fast each shard of the run may go: at most `rowsPerSecond` rows per second per shard, batches of
 * at most `batchSize` rows, `pauseMs` between batches. An upper bound on top of the adaptive batch size;
 * `{}` clears it.
 */
export const Throttle = z.object({
  rowsPerSecond: z.int().min(1).max(10_000_000).optional(),
  batchSize: z.int().min(1).max(100_000).optional(),
  pauseMs: z.int().min(0).max(600_000).optional(),
});
export type Throttle = z.infer<typeof Throttle>;

/** What a `retry` re-runs (one shard, or one wave: 0-based as in every event), or the wave a `promote` lets start. */
export const ControlTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('shard'), shardId: ShardId }),
  z.object({ kind: z.literal('wave'), wave: Count }),
]);
export type ControlTarget = z.infer<typeof ControlTarget>;

/** Who asked: `user@host` from the CLI, `dashboard:<name>` from the dashboard. */
export const RequestedBy = z.string().min(1).max(200);

/**
 * An operator's control of a run — consumed by verify. `throttle` is required for action `throttle`,
 * `target` for `retry` (and names the gated wave for `promote`); verify answers a request missing them
 * with an `ignored` `run.control.applied` rather than refusing the event.
 */
export const RunControlRequested = z.object({
  runId: RunId,
  controlId: z.uuid(),
  action: ControlAction,
  throttle: Throttle.optional(),
  target: ControlTarget.optional(),
  requestedBy: RequestedBy,
  reason: z.string().max(500).optional(),
});
export type RunControlRequested = z.infer<typeof RunControlRequested>;

/**
 * A run's control state after a control: paused or not (since when), the time paused so far
 * (`pausedMs`, the running pause not included), the throttle in force and a wave waiting for a promote.
 */
export const RunControlState = z.object({
  paused: z.boolean(),
  pausedAt: z.iso.datetime().optional(),
  pausedMs: Count,
  throttle: Throttle.optional(),
  gate: z.object({ wave: Count }).optional(),
});
export type RunControlState = z.infer<typeof RunControlState>;

/** What came of a control (lifecycle): `applied`, or `ignored` with why; and the run's control state now. */
export const RunControlApplied = z.object({
  runId: RunId,
  controlId: z.uuid(),
  action: ControlAction,
  requestedBy: RequestedBy,
  outcome: z.enum(['applied', 'ignored']),
  message: z.string().max(500),
  state: RunControlState,
});
export type RunControlApplied = z.infer<typeof RunControlApplied>;
