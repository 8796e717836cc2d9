/**
 * A control asked for by the dashboard's buttons (pure): the POST body checked field by field and turned
 * into the data of `run.control.requested` (issue 17's contract). The dashboard only asks; verify, the
 * run's coordinator, applies it — so the functions stay the only writers of run state.
 */
import { z } from 'zod';
import { ControlTarget } from '@upshift/events';

/** The controls the dashboard's buttons send. */
export const DashboardAction = z.enum(['pause', 'resume', 'throttle', 'abort', 'promote', 'retry']);
export type DashboardAction = z.infer<typeof DashboardAction>;

/** Who pressed the button, as typed on the page: recorded as `dashboard:<operator>`. */
export const OperatorName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_", "@" or "-"');

/** The throttle of a `throttle` control: rows per second per shard, batch size, pause between batches; `{}` clears it. */
export const ThrottleSettings = z.object({
  rowsPerSecond: z.number().int().min(1).max(10_000_000).optional(),
  batchSize: z.number().int().min(1).max(100_000).optional(),
  pauseMs: z.number().int().min(0).max(600_000).optional(),
}).strict();
export type ThrottleSettings = z.infer<typeof ThrottleSettings>;

/** What a `retry` re-runs: a failed shard, or the wave a frozen run stopped at (0-based) — the contract's own target. */
export const RetryTarget = ControlTarget;
export type RetryTarget = ControlTarget;

/** The body of `POST /api/runs/<run>/controls`. */
export const ControlRequestBody = z.object({
  action: DashboardAction,
  operator: OperatorName,
  /** Made by the page per press, so a POST sent again (a retry, a double click) acts once. */
  controlId: z.uuid().optional(),
  throttle: ThrottleSettings.optional(),
  target: RetryTarget.optional(),
  reason: z.string().max(500).optional(),
}).strict()
  .refine((body) => body.action !== 'throttle' || body.throttle !== undefined, { message: 'a throttle needs its settings ({} clears it)', path: ['throttle'] })
  .refine((body) => body.action !== 'retry' || body.target !== undefined, { message: 'a retry needs its target: a failed shard or the wave a frozen run stopped at', path: ['target'] });
export type ControlRequestBody = z.infer<typeof ControlRequestBody>;

/** The data of a `run.control.requested` event. */
export interface ControlRequestData {
  readonly runId: string;
  readonly controlId: string;
  readonly action: DashboardAction;
  readonly throttle?: ThrottleSettings;
  readonly target?: RetryTarget;
  readonly requestedBy: string;
  readonly reason?: string;
}

/** Parses a POST body; the problems name their fields. */
export function parseControlRequest(body: unknown): { ok: true; body: ControlRequestBody } | { ok: false; problems: string[] } {
  const parsed = ControlRequestBody.safeParse(body);
  if (parsed.success) return { ok: true, body: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`) };
}

/** The event data for a checked body: the page's control id, else `newId` (a fresh UUID). */
export function controlRequestData(runId: string, body: ControlRequestBody, newId: () => string): ControlRequestData {
  return {
    runId, controlId: body.controlId ?? newId(), action: body.action, requestedBy: `dashboard:${body.operator}`,
    ...(body.action === 'throttle' && body.throttle ? { throttle: body.throttle } : {}),
    ...(body.action === 'retry' && body.target ? { target: body.target } : {}),
    ...(body.reason ? { reason: body.reason } : {}),
  };
}
