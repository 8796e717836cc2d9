import { runStrategy, type FieldProblem, type PlannedTarget, type RunPlan, type ScheduledMigration, type UpgradePolicy } from '@upshift/events';
import { computeWaves } from './waves.ts';

export type { PlannedTarget, RunPlan };

/** Facts the plan needs beyond the policy: current images and each migration's store and size. */
export interface PlanFacts {
  /** Current image per `${service}@${cluster}`. */
  currentImages: Map<string, string>;
  /** Store and the shard count `shards: auto` resolves to (from the store's row count) per migration ref. */
  migrations: Map<string, { store: 'postgres' | 'mongodb'; autoShards: number }>;
}

/** Builds the run plan from a valid policy and preflight facts, or says why there is no safe order (or which gate names no wave). */
export function buildPlan(runId: string, policy: UpgradePolicy, facts: PlanFacts): { ok: true; plan: RunPlan } | { ok: false; message: string; problems?: FieldProblem[] } {
  const spec = policy.spec;
  const order = computeWaves({
    services: spec.services.map((s) => ({ name: s.name, clusters: s.clusters, dependsOn: s.dependsOn })),
    clusterOrder: spec.strategy.clusterOrder ?? spec.clusters.map((c) => c.name),
    maxParallelServices: spec.strategy.maxParallelServices,
  });
  if (!order.ok) return { ok: false, message: order.message };
  const gates = gateProblems(spec.strategy.gates ?? [], order.waves.length);
  if (gates.length > 0) return { ok: false, message: `the policy names a gate before a wave the plan does not have (it has ${order.waves.length})`, problems: gates };
  const byName = new Map(spec.services.map((s) => [s.name, s]));
  const unseen = order.waves.flat().find(({ service, cluster }) => !facts.currentImages.has(`${service}@${cluster}`));
  if (unseen) return { ok: false, message: `no current image was observed for ${unseen.service} in cluster ${unseen.cluster}` };
  const waves = order.waves.map((wave, index) => ({
    index,
    targets: wave.map(({ service, cluster }): PlannedTarget => {
      const s = byName.get(service);
      if (!s) throw new Error(`wave names unknown service ${service}`);
      return {
        service, cluster, namespace: s.namespace, workload: s.workload, container: s.container, image: s.image,
        previousImage: facts.currentImages.get(`${service}@${cluster}`) ?? '',
      };
    }),
  }));
  const migrations = spec.migrations.map((m): ScheduledMigration => {
    const seen = facts.migrations.get(m.ref);
    return {
      ref: m.ref,
      store: seen?.store ?? 'postgres',
      shards: m.shards === 'auto' ? (seen?.autoShards ?? 1) : m.shards,
      batchSize: m.batchSize,
      backup: m.backup,
      afterWave: migrationStartWave(order.waves, m.after),
    };
  });
  return {
    ok: true,
    plan: { runId, policyName: policy.metadata.name, dryRun: spec.dryRun, strategy: runStrategy(spec.strategy), clusters: spec.clusters, waves, migrations },
  };
}

/** A gate before a wave beyond the plan's last names no wave: one problem per such gate, with its path. */
export function gateProblems(gates: ReadonlyArray<{ beforeWave: number }>, waves: number): FieldProblem[] {
  return gates.flatMap((gate, index) => (gate.beforeWave <= waves ? [] : [{
    path: `spec.strategy.gates[${index}].beforeWave`,
    message: `the plan has ${waves} wave(s): there is no wave ${gate.beforeWave} to hold before`,
  }]));
}

/**
 * The wave after which a migration starts: the last wave that rolls out a service of its `after` list (in
 * any of its clusters), so every cluster runs those services' new version before their data changes; with
 * no `after`, the last wave. Rollout waits for the migration's shards before it starts the next wave, so a
 * later wave's failure finds the data final and restores it.
 */
export function migrationStartWave(waves: ReadonlyArray<ReadonlyArray<{ service: string }>>, after: readonly string[]): number {
  const last = Math.max(0, waves.length - 1);
  const named = new Set(after);
  const holding = waves.flatMap((wave, index) => (wave.some((t) => named.has(t.service)) ? [index] : []));
  return holding.length > 0 ? Math.max(...holding) : last;
}

/** The targets a run holds exclusively: each workload in each cluster, and each migration. */
export function runTargets(plan: RunPlan): Array<{ kind: 'workload' | 'migration'; target: string }> {
  const workloads = plan.waves.flatMap((w) => w.targets).map((t) => ({
    kind: 'workload' as const,
    target: `${t.cluster}/${t.namespace}/${t.workload.kind}/${t.workload.name}`,
  }));
  const migrations = plan.migrations.map((m) => ({ kind: 'migration' as const, target: m.ref.split('@')[0] ?? m.ref }));
  return [...workloads, ...migrations];
}
