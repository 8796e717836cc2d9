/**
 * Operator controls of a run (pure): what a pause, resume, throttle, abort, retry or promote does to a
 * run as it stands — applied, with the control state after it and the effect to carry out, or ignored
 * with why. verify carries the decision out (it is the single writer of a run's control state); the
 * other functions only read the state: migrate-shard between batches, rollout for its deadlines, and
 * the host, which holds a run's forward events while it is paused (`isHeldWhilePaused`).
 */
import type { EventName, RunControlRequested, RunControlState, Stage, Throttle } from '@upshift/events';
import type { RunStatus, StepStatus } from './statuses.ts';
import { finalRunStatuses } from './statuses.ts';

/** A run's control state as stored (times in epoch ms). */
export interface ControlState {
  readonly paused: boolean;
  /** When the current pause began (set while paused). */
  readonly pausedAt: number | undefined;
  /** Time paused before the current pause. */
  readonly pausedMs: number;
  readonly throttle: Throttle | undefined;
  /** A wave waiting for a promote (0-based). */
  readonly gateWave: number | undefined;
}

/** The state of a run nobody controlled. */
export const uncontrolled: ControlState = Object.freeze({ paused: false, pausedAt: undefined, pausedMs: 0, throttle: undefined, gateWave: undefined });

/** What verify knows when it decides a control. */
export interface ControlFacts {
  /** The run's status; undefined for a run the control store does not know. */
  readonly status: RunStatus | undefined;
  readonly state: ControlState;
  readonly now: number;
  readonly failurePolicy?: 'rollback' | 'freeze';
  /** The stage the run is in (what an abort names as failed). */
  readonly stage?: Stage;
  /** For a retry of a shard: its step's status (undefined: not a shard of the run), whether its request is known. */
  readonly shard?: { readonly status: StepStatus | undefined; readonly requestKnown: boolean };
  /** Whether some shard of the run is not final yet (the fan-in has not concluded its stage). */
  readonly fanInOpen?: boolean;
  /** Set for a frozen run: one that failed and rolled nothing back (its policy froze it, or an abort did). */
  readonly frozen?: FrozenFacts;
}

/** Where a frozen run stopped, and what would stop it from going on. */
export interface FrozenFacts {
  /** The stage that failed (what a rollback names as its cause). */
  readonly stage: Stage;
  /** Why it froze (the frozen `upgrade.failed`'s reason), kept with a rollback's cause. */
  readonly reason: string;
  /** The status of each of the plan's waves, by index ('pending' for a wave never started). */
  readonly waves: readonly StepStatus[];
  /** Targets of the run that another active run has claimed since the freeze (`kind target (run id)`). */
  readonly takenBy: readonly string[];
}

/** What a decided control makes verify do besides storing the state. */
export type ControlEffect =
  | { readonly kind: 'none' }
  | { readonly kind: 'release-held' }
  | { readonly kind: 'drop-held' }
  | { readonly kind: 'abort'; readonly stage: Stage; readonly reason: string }
  | { readonly kind: 'retry-shard'; readonly shardId: string }
  /** A frozen run goes on: it runs again (`running`), and then the shard or wave is requested again. */
  | { readonly kind: 'reopen-shard'; readonly shardId: string }
  | { readonly kind: 'reopen-wave'; readonly wave: number }
  /** A frozen run is rolled back: its compensations run as a failed stage's would under `rollback`. */
  | { readonly kind: 'rollback-frozen'; readonly stage: Stage; readonly reason: string };

/** A control decided: applied or ignored, why, the state after it, and what else to do. */
export interface ControlDecision {
  readonly outcome: 'applied' | 'ignored';
  readonly message: string;
  readonly state: ControlState;
  readonly effect: ControlEffect;
}

/** The request fields a decision reads. */
export type ControlRequest = Pick<RunControlRequested, 'action' | 'requestedBy'> & Partial<Pick<RunControlRequested, 'throttle' | 'target' | 'reason'>>;

/** Decides a control of a run. */
export function decideControl(request: ControlRequest, facts: ControlFacts): ControlDecision {
  if (facts.status === 'failed' && facts.frozen) return frozenControl(request, facts, facts.frozen);
  const refusal = notControllable(request, facts);
  if (refusal) return ignored(facts, refusal);
  switch (request.action) {
    case 'pause': return pause(request, facts);
    case 'resume': return resume(facts);
    case 'throttle': return throttle(request, facts);
    case 'abort': return abort(request, facts);
    case 'retry': return retry(request, facts);
    case 'promote': return promote(request, facts);
  }
}

/** Why a control cannot act on the run at all (unknown, ended, rolling back), or undefined. */
function notControllable(request: ControlRequest, facts: ControlFacts): string | undefined {
  if (facts.status === undefined) return 'the run is unknown to the control store';
  if (finalRunStatuses.has(facts.status)) return `the run has ended (${facts.status})`;
  const resumeOfRollback = request.action === 'resume' && facts.state.paused;
  if (facts.status === 'rolling-back' && !resumeOfRollback) return 'the run is rolling back: its compensations are not controlled';
  return undefined;
}

function pause(request: ControlRequest, facts: ControlFacts): ControlDecision {
  const { state } = facts;
  if (state.paused) return ignored(facts, `already paused since ${new Date(state.pausedAt ?? facts.now).toISOString()}`);
  const by = request.reason ? `${request.requestedBy}: ${request.reason}` : request.requestedBy;
  return applied({ ...state, paused: true, pausedAt: facts.now }, clip(`paused by ${by}; shards stop after their current batch, the next stage waits`));
}

function resume(facts: ControlFacts): ControlDecision {
  const { state } = facts;
  if (!state.paused) return ignored(facts, 'not paused');
  const pausedFor = Math.max(0, facts.now - (state.pausedAt ?? facts.now));
  const next = { ...state, paused: false, pausedAt: undefined, pausedMs: state.pausedMs + pausedFor };
  if (facts.status !== 'running') return applied(next, `resumed after ${seconds(pausedFor)}; the run is rolling back, so its held work is dropped`, { kind: 'drop-held' });
  const gate = state.gateWave !== undefined ? `; wave ${state.gateWave + 1} still waits at its gate for a promote` : '';
  return applied(next, `resumed after ${seconds(pausedFor)}; held work released${gate}`, { kind: 'release-held' });
}

/**
 * Passes the gate the run waits at (the one named by a wave target, or the current one): its wave
 * request is released — unless the run is also paused, when it stays held until the resume.
 */
function promote(request: ControlRequest, facts: ControlFacts): ControlDecision {
  const { state } = facts;
  const target = request.target;
  if (target?.kind === 'shard') return ignored(facts, 'a promote targets a wave (the one waiting at its gate), not a shard');
  const gate = state.gateWave;
  if (gate === undefined) return ignored(facts, 'the run is not waiting at a gate');
  if (target && target.wave !== gate) return ignored(facts, `the gate is before wave ${gate + 1}, not ${target.wave + 1}`);
  const next = { ...state, gateWave: undefined };
  const by = request.reason ? `${request.requestedBy}: ${request.reason}` : request.requestedBy;
  if (state.paused) return applied(next, clip(`promoted by ${by}: wave ${gate + 1} starts when the run is resumed (it is paused)`));
  return applied(next, clip(`promoted by ${by}: wave ${gate + 1} starts`), { kind: 'release-held' });
}

function throttle(request: ControlRequest, facts: ControlFacts): ControlDecision {
  const wanted = request.throttle;
  if (!wanted) return ignored(facts, 'a throttle needs rowsPerSecond, batchSize or pauseMs ({} clears it)');
  const cleared = wanted.rowsPerSecond === undefined && wanted.batchSize === undefined && wanted.pauseMs === undefined;
  if (cleared) return applied({ ...facts.state, throttle: undefined }, 'throttle cleared: shards go at their adaptive pace');
  return applied({ ...facts.state, throttle: { ...wanted } }, `throttled to ${describeThrottle(wanted)}, from each shard's next batch`);
}

function abort(request: ControlRequest, facts: ControlFacts): ControlDecision {
  const reason = clip(request.reason ? `aborted by ${request.requestedBy}: ${request.reason}` : `aborted by ${request.requestedBy}`, 2000);
  const { state } = facts;
  const pausedFor = state.paused ? Math.max(0, facts.now - (state.pausedAt ?? facts.now)) : 0;
  const next = { ...state, paused: false, pausedAt: undefined, pausedMs: state.pausedMs + pausedFor, gateWave: undefined };
  const policy = facts.failurePolicy ?? 'rollback';
  const what = policy === 'freeze' ? 'frozen where it stands, as its policy asks' : 'rolling back, as its policy asks';
  return applied(next, clip(`${reason}; ${what}`), { kind: 'abort', stage: facts.stage ?? 'rollout', reason });
}

function retry(request: ControlRequest, facts: ControlFacts): ControlDecision {
  const target = request.target;
  if (!target) return ignored(facts, 'a retry needs a target: a failed shard');
  if (target.kind === 'wave') {
    return ignored(facts, 'a running run has no failed wave to retry: a failed wave applies the failure policy at once — under `freeze` the run stops at it, and a retry of the frozen run\'s wave goes on from there');
  }
  const shard = facts.shard;
  if (!shard || shard.status === undefined) return ignored(facts, clip(`${target.shardId} is not a shard of this run`));
  if (shard.status !== 'failed') return ignored(facts, clip(`shard ${target.shardId} is ${shard.status}; only a failed shard is retried`));
  if (facts.fanInOpen !== true) return ignored(facts, 'every shard of the run is final: its stage has concluded, too late to retry one');
  if (!shard.requestKnown) return ignored(facts, clip(`shard ${target.shardId} was never requested by this run's outbox: nothing to re-request`));
  const held = facts.state.paused ? ' (held until the run is resumed)' : '';
  return applied(facts.state, clip(`retrying shard ${target.shardId} from its last checkpoint${held}`), { kind: 'retry-shard', shardId: target.shardId });
}

/**
 * A control of a frozen run. The freeze left data and images where they stood for a person to decide:
 * `retry` of the wave or shard it stopped at makes it go on (like Argo Workflows' retry of a failed
 * workflow), `abort` rolls it back (the decision the freeze waited for). Both need the run's targets,
 * which it released when it froze: they are refused while another active run holds one of them.
 */
function frozenControl(request: ControlRequest, facts: ControlFacts, frozen: FrozenFacts): ControlDecision {
  const onward = 'the run is frozen: `retry` the wave or shard it stopped at to go on, or `abort` to roll it back';
  if (request.action !== 'retry' && request.action !== 'abort') return ignored(facts, onward);
  if (frozen.takenBy.length > 0) {
    const shown = frozen.takenBy.slice(0, 3).join(', ') + (frozen.takenBy.length > 3 ? ` and ${frozen.takenBy.length - 3} more` : '');
    return ignored(facts, clip(`the frozen run's targets belong to another active run now: ${shown}`));
  }
  const by = request.reason ? `${request.requestedBy}: ${request.reason}` : request.requestedBy;
  const next = { ...facts.state, paused: false, pausedAt: undefined, gateWave: undefined };
  if (request.action === 'abort') {
    if (frozen.stage === 'contract') return ignored(facts, 'the run froze in its contract phase: the old shape of the data is (partly) gone, so it is not rolled back');
    const reason = clip(`rolled back by ${by} after the freeze: ${frozen.reason}`, 2000);
    return applied(next, clip(`rolling back the frozen run, as ${by} asked`), { kind: 'rollback-frozen', stage: frozen.stage, reason });
  }
  const target = request.target;
  if (!target) return ignored(facts, 'a retry needs a target: the failed wave or shard the run froze at');
  if (target.kind === 'wave') return retryFrozenWave(facts, frozen, target.wave, by, next);
  const shard = facts.shard;
  if (!shard || shard.status === undefined) return ignored(facts, clip(`${target.shardId} is not a shard of this run`));
  if (shard.status !== 'failed') return ignored(facts, clip(`shard ${target.shardId} is ${shard.status}; only a failed shard is retried`));
  if (!shard.requestKnown) return ignored(facts, clip(`shard ${target.shardId} was never requested by this run's outbox: nothing to re-request`));
  return applied(next, clip(`the frozen run goes on: retrying shard ${target.shardId} from its last checkpoint (${by})`), { kind: 'reopen-shard', shardId: target.shardId });
}

/** A wave of a frozen run may run again when it is the one the run stopped at: every wave before it completed, it did not. */
function retryFrozenWave(facts: ControlFacts, frozen: FrozenFacts, wave: number, by: string, next: ControlState): ControlDecision {
  const status = frozen.waves[wave];
  if (status === undefined) return ignored(facts, `the run has ${frozen.waves.length} wave(s), not ${wave + 1}`);
  if (status === 'completed') return ignored(facts, `wave ${wave + 1} completed; ${frozen.stage === 'rollout' ? 'retry the wave the run stopped at' : `the run froze at its ${frozen.stage} stage: retry a failed shard, or abort to roll it back`}`);
  const stoppedAt = frozen.waves.findIndex((s) => s !== 'completed');
  if (stoppedAt !== wave) return ignored(facts, `the run stopped at wave ${stoppedAt + 1}, not ${wave + 1}: waves run in order`);
  if (frozen.stage !== 'rollout') return ignored(facts, `the run froze at its ${frozen.stage} stage before wave ${wave + 1}: retry a failed shard, or abort to roll it back`);
  return applied(next, clip(`the frozen run goes on: wave ${wave + 1} rolls out again, with a new progress deadline (${by})`), { kind: 'reopen-wave', wave });
}

function applied(state: ControlState, message: string, effect: ControlEffect = { kind: 'none' }): ControlDecision {
  return { outcome: 'applied', message, state, effect };
}

function ignored(facts: ControlFacts, why: string): ControlDecision {
  return { outcome: 'ignored', message: clip(`ignored: ${why}`), state: facts.state, effect: { kind: 'none' } };
}

/** Time paused so far, the current pause included. */
export function pausedSoFar(state: Pick<ControlState, 'paused' | 'pausedAt' | 'pausedMs'>, now: number): number {
  return state.pausedMs + (state.paused && state.pausedAt !== undefined ? Math.max(0, now - state.pausedAt) : 0);
}

/** The state as `run.control.applied` carries it. */
export function controlStateData(state: ControlState): RunControlState {
  return {
    paused: state.paused,
    ...(state.paused && state.pausedAt !== undefined ? { pausedAt: new Date(state.pausedAt).toISOString() } : {}),
    pausedMs: Math.round(state.pausedMs),
    ...(state.throttle ? { throttle: { ...state.throttle } } : {}),
    ...(state.gateWave !== undefined ? { gate: { wave: state.gateWave } } : {}),
  };
}

/** A throttle in words: `2000 rows/s per shard, batches of at most 500 rows, 50 ms between batches`. */
export function describeThrottle(throttle: Throttle): string {
  const parts = [
    throttle.rowsPerSecond !== undefined ? `${throttle.rowsPerSecond} rows/s per shard` : undefined,
    throttle.batchSize !== undefined ? `batches of at most ${throttle.batchSize} rows` : undefined,
    throttle.pauseMs !== undefined ? `${throttle.pauseMs} ms between batches` : undefined,
  ].filter((part): part is string => part !== undefined);
  return parts.length > 0 ? parts.join(', ') : 'no limit';
}

/**
 * Events that move a run forward to its next stage (or a shard to its next hop). Emitted while the run
 * is paused they are held instead of published, and resume publishes them; the work in flight (a
 * wave's checks, shard outcomes, the rollback's events, lifecycle events) is never held.
 */
export const heldWhilePaused: ReadonlySet<EventName> = new Set<EventName>([
  'migration.expand.requested', 'migration.expand.done', 'rollout.wave.requested', 'migration.requested', 'shard.requested',
  'verify.requested', 'migration.contract.requested',
]);

/** Whether an event of this short name is held while its run is paused. */
export function isHeldWhilePaused(name: string): boolean {
  return heldWhilePaused.has(name as EventName);
}

/**
 * Whether a run's forward event is held at a gate: a `rollout.wave.requested` for a gated wave that has
 * not been passed yet. `reachedBefore`: the gate was reached earlier (then only the gate still being
 * the current one holds it; after its promote the same request goes through).
 */
export function isHeldAtGate(gated: boolean, gateWave: number | undefined, wave: number, reachedBefore: boolean): boolean {
  if (!gated) return false;
  return !reachedBefore || gateWave === wave;
}

/**
 * When the run watchdog should count a run's silence from, or undefined when it must leave the run
 * alone: a paused running run, or one waiting at a gate, waits for its operator, and a resume (or any
 * control) is progress.
 */
export function watchdogClock(
  lastChange: number, control: { readonly paused: boolean; readonly gateWave?: number | undefined; readonly changedAt: number | undefined }, status: RunStatus,
): number | undefined {
  if ((control.paused || control.gateWave !== undefined) && status === 'running') return undefined;
  return Math.max(lastChange, control.changedAt ?? 0);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function clip(text: string, max = 500): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
