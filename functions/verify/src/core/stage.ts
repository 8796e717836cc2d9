import { allFinal, type FanIn } from './verdict.ts';

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
 * Decides the fan-in of a run whose migrations start after different waves. The current stage is the
 * latest `afterWave` among the migrations that have shards; counted are the shards of every migration
 * requested so far (`afterWave` up to that stage). Until all of them are final: wait. Then, when waves
 * remain after the stage: the next wave if every shard completed, else the failure policy at once (the
 * checks would only find the later waves not rolled out). After the last wave: the verification, as for
 * a run whose migrations all wait for the last wave.
 */
export function decideFanIn(lastWave: number, migrations: readonly MigrationFanIn[]): FanInStep {
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
