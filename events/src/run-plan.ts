/**
 * The run plan: what plan persists with a run in the control store and the other functions read back
 * (waves with previous images, migrations, strategy, how to reach each cluster). Not an event, but a
 * contract between the functions all the same, so it lives here.
 */
import type { PlannedMigration } from './schemas/common.ts';
import type { PlannedWave } from './schemas/upgrade.ts';
import type { RolloutWaveRequested } from './schemas/rollout.ts';
import type { ClusterSpec, StrategySpec } from './policy/schema.ts';

/**
 * A migration of the run plan: always with the wave after which it starts (see `PlannedMigration`), and
 * the checksum of the catalog entry plan planned (`sha256:…`, YAML and transform modules): migrate-shard
 * and verify refuse an entry whose checksum differs. Absent only in plans stored before it was recorded.
 * Never sent in an event (the event schemas do not know it and drop it).
 */
export type ScheduledMigration = PlannedMigration & { afterWave: number; checksum?: string };

/**
 * The strategy as a run plan keeps it: the policy's, with its gates as the 0-based waves that wait for a
 * promote (`gateWaves`, as events count waves). Absent in plans stored before gates existed: no gates.
 */
export type RunStrategy = Omit<StrategySpec, 'gates'> & { gateWaves?: number[] };

/** The plan's strategy from the policy's: gates become sorted, distinct, 0-based `gateWaves`. */
export function runStrategy(spec: StrategySpec): RunStrategy {
  const { gates, ...rest } = spec;
  if (!gates || gates.length === 0) return rest;
  return { ...rest, gateWaves: [...new Set(gates.map((g) => g.beforeWave - 1))].sort((a, b) => a - b) };
}

/** The persisted plan of one run. */
export interface RunPlan {
  runId: string;
  policyName: string;
  dryRun: boolean;
  strategy: RunStrategy;
  /** How to reach each cluster (kubeconfig context or mounted Secret). */
  clusters: ClusterSpec[];
  waves: PlannedWave[];
  /** In policy order; each runs after its `afterWave`, so a later wave's failure can restore its data. */
  migrations: ScheduledMigration[];
}

/** A wave target with the image it ran before the run: what a rollback puts back. */
export type PlannedTarget = PlannedWave['targets'][number];

/** The `rollout.wave.requested` data of one wave of a plan (targets without their previous images), or undefined past the last wave. */
export function waveRequest(plan: RunPlan, wave: number): RolloutWaveRequested | undefined {
  const planned = plan.waves[wave];
  if (!planned) return undefined;
  const targets = planned.targets.map(({ previousImage: _previous, ...target }) => target);
  return { runId: plan.runId, wave, waves: plan.waves.length, targets };
}
