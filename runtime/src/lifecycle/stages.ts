/**
 * Which stage of a run follows which (pure). A run goes: expand (when it has migrations) → waves in
 * order, with each migration's shards between the wave it starts after and the next one → verify →
 * contract (when asked) → completed. Adapters carry the answer out as the event that starts the stage.
 */
import { waveRequest, type EventData, type RunPlan, type ScheduledMigration } from '@upshift/events';

/** The stage a run enters next, with what its starting event needs. */
export type NextStage =
  | { kind: 'expand'; migrations: string[] }
  | { kind: 'wave'; request: EventData<'rollout.wave.requested'> }
  | { kind: 'migrate'; migrations: ScheduledMigration[] }
  | { kind: 'verify' };

/** The first waves, or verification when the plan has none. */
function fromWave(plan: RunPlan, wave: number): NextStage {
  const request = waveRequest(plan, wave);
  return request ? { kind: 'wave', request } : { kind: 'verify' };
}

/** After planning: the expand DDL when there are migrations, else the first wave (or verification). */
export function firstStage(plan: RunPlan): NextStage {
  if (plan.migrations.length > 0) return { kind: 'expand', migrations: plan.migrations.map((m) => m.ref) };
  return fromWave(plan, 0);
}

/** After the expand DDL: the first wave (or verification). */
export function afterExpand(plan: RunPlan): NextStage {
  return fromWave(plan, 0);
}

/**
 * After wave `wave` completed: the migrations planned to start after it (and nothing else — the next
 * wave waits until their shards are in, so a later failure always finds final data to restore), else
 * the next wave, else verification.
 */
export function afterWave(plan: RunPlan, wave: number): NextStage {
  const starting = plan.migrations.filter((m) => m.afterWave === wave);
  if (starting.length > 0) return { kind: 'migrate', migrations: starting };
  return fromWave(plan, wave + 1);
}

/** Where a run's fan-in stands: shards planned and shards that reached a final state. */
export interface FanIn {
  total: number;
  final: number;
  failed: number;
}

/** Whether every shard is final (and there is at least one). */
export function allFinal(fanIn: FanIn): boolean {
  return fanIn.total > 0 && fanIn.final >= fanIn.total;
}

/** One planned migration with the fan-in of its shards so far (all zero before its fan-out). */
export interface MigrationFanIn extends FanIn {
  ref: string;
  /** The wave after which it starts (the plan's `afterWave`). */
  afterWave: number;
}

/** What a shard outcome leads to, for the stage (the latest `afterWave` with shards) it belongs to. */
export type FanInStep =
  | { kind: 'wait'; fanIn: FanIn }
  | { kind: 'next-wave'; wave: number; fanIn: FanIn }
  | { kind: 'fail'; fanIn: FanIn }
  | { kind: 'verify'; fanIn: FanIn };

/**
 * After a shard of a migration stage is final. The current stage is the latest `afterWave` among the
 * migrations that have shards; counted are the shards of every migration requested so far. Until all
 * are final: wait. Then, with waves left after the stage: the next wave if every shard completed, else
 * the failure policy at once (the checks would only find the later waves not rolled out). After the
 * last wave: verification.
 */
export function afterShards(lastWave: number, migrations: readonly MigrationFanIn[]): FanInStep {
  const started = migrations.filter((m) => m.total > 0);
  const none: FanIn = { total: 0, final: 0, failed: 0 };
  if (started.length === 0) return { kind: 'wait', fanIn: none };
  const stage = Math.max(...started.map((m) => m.afterWave));
  const requested = migrations.filter((m) => m.afterWave <= stage);
  const fanIn = requested.reduce((sum, m) => ({ total: sum.total + m.total, final: sum.final + m.final, failed: sum.failed + m.failed }), none);
  if (requested.some((m) => m.total === 0) || !allFinal(fanIn)) return { kind: 'wait', fanIn };
  if (stage >= lastWave) return { kind: 'verify', fanIn };
  return fanIn.failed > 0 ? { kind: 'fail', fanIn } : { kind: 'next-wave', wave: stage + 1, fanIn };
}
