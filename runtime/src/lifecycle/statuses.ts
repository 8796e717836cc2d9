/**
 * The vocabulary of run state (pure): run statuses and the transitions allowed between them, step kinds,
 * step statuses and the run's one-time claims. The control store's run tables hold nothing else.
 */

/** Statuses of a run, from planning to its end. */
export const runStatuses = ['running', 'rolling-back', 'completed', 'failed', 'rolled-back', 'rejected', 'planned', 'abandoned'] as const;
/** One run status. */
export type RunStatus = (typeof runStatuses)[number];

/** Statuses after which a run changes no more and releases what it held. */
export const finalRunStatuses: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'rolled-back', 'rejected', 'planned', 'abandoned']);

/**
 * The transitions a run may take. A run starts `running` (plan inserts it so); a dry run ends `planned`,
 * a refused request `rejected`; a failure under `rollback` goes through `rolling-back`; `abandoned` is
 * what the demo marks a run it gave up on. A final status is never left by these transitions; the one
 * exception is a frozen run (`failed`, nothing rolled back) that an operator's control reopens
 * (`reopenFrozenRun` in store/run-state/frozen.ts, decided by `decideControl`).
 */
const transitions: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  'running': ['rolling-back', 'completed', 'failed', 'planned', 'rejected', 'abandoned'],
  'rolling-back': ['rolling-back', 'rolled-back', 'failed', 'abandoned'],
  'completed': [],
  'failed': [],
  'rolled-back': [],
  'rejected': [],
  'planned': [],
  'abandoned': [],
};

/** Whether a run in status `from` may move to `to`. */
export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return transitions[from].includes(to);
}

/** The statuses a run may be in to move to `to` (what the guarded UPDATE accepts). */
export function statusesBefore(to: RunStatus): RunStatus[] {
  return runStatuses.filter((from) => canTransition(from, to));
}

/**
 * Kinds of a run's steps: `wave` and `revert` (rollout, key = wave index), `shard` (migrate-shard, key =
 * shard id), `fanin` and `restored` (verify's record of each shard's final outcome and restore), and
 * `once` (a claim, key = the claim), and `dead-letter` (one of the run's events that delivery gave up on,
 * key = its event id, with what upshift did about it), and `watchdog` (key `stall`: the nudges of a run
 * that stopped making progress, and the watchdog's verdict).
 */
export const stepKinds = ['wave', 'revert', 'shard', 'fanin', 'restored', 'once', 'dead-letter', 'watchdog'] as const;
/** One step kind. */
export type StepKind = (typeof stepKinds)[number];

/** Statuses of a step, in the order they can happen. */
export const stepStatuses = ['pending', 'running', 'completed', 'failed', 'cancelled', 'restoring', 'restored'] as const;
/** One step status. */
export type StepStatus = (typeof stepStatuses)[number];

/** Step statuses that end the step's work (a restore may still follow a shard's). */
export function isFinalStep(status: StepStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled' || status === 'restored';
}

/**
 * One-time actions of a run, claimed exactly once across instances and redeliveries: the verdict
 * (`verify`), the start of a rollback (`rollback`, kept with its stage and reason), the image revert
 * asked for once the restores are in (`restores-done`), rollout's image revert (`image-revert`, kept with
 * its order), and the next wave after a migration stage (`wave-<n>`).
 */
export type Claim = 'verify' | 'rollback' | 'restores-done' | 'image-revert' | `wave-${number}`;
