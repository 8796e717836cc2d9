import type { PlannedMigration, UpgradePolicy, WorkloadTarget } from '@upshift/events';
import { computeWaves } from './waves.ts';

/** A wave target with the image it ran before the run: what a rollback puts back. */
export type PlannedTarget = WorkloadTarget & { previousImage: string };

/** The plan persisted with the run; rollout, migrate-shard and verify read it. */
export interface RunPlan {
  runId: string;
  policyName: string;
  dryRun: boolean;
  strategy: UpgradePolicy['spec']['strategy'];
  waves: Array<{ index: number; targets: PlannedTarget[] }>;
  migrations: PlannedMigration[];
}

/** Facts the plan needs beyond the policy: current images and each migration's store and size. */
export interface PlanFacts {
  /** Current image per `${service}@${cluster}`. */
  currentImages: Map<string, string>;
  /** Store and estimated row/document count per migration ref. */
  migrations: Map<string, { store: 'postgres' | 'mongodb'; estimatedRows: number }>;
}

/** Rows per shard when the policy says `shards: auto`. */
export const targetRowsPerShard = 25_000;
/** The most shards `auto` chooses. */
export const maxAutoShards = 64;

/** `auto` shard count: enough shards for ~25k rows each, at least 1, at most 64. */
export function autoShards(estimatedRows: number): number {
  return Math.min(maxAutoShards, Math.max(1, Math.ceil(estimatedRows / targetRowsPerShard)));
}

/** Builds the run plan from a valid policy and preflight facts, or says why there is no safe order. */
export function buildPlan(runId: string, policy: UpgradePolicy, facts: PlanFacts): { ok: true; plan: RunPlan } | { ok: false; message: string } {
  const spec = policy.spec;
  const order = computeWaves({
    services: spec.services.map((s) => ({ name: s.name, clusters: s.clusters, dependsOn: s.dependsOn })),
    clusterOrder: spec.strategy.clusterOrder ?? spec.clusters.map((c) => c.name),
    maxParallelServices: spec.strategy.maxParallelServices,
  });
  if (!order.ok) return { ok: false, message: order.message };
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
  const migrations = spec.migrations.map((m): PlannedMigration => {
    const seen = facts.migrations.get(m.ref);
    return {
      ref: m.ref,
      store: seen?.store ?? 'postgres',
      shards: m.shards === 'auto' ? autoShards(seen?.estimatedRows ?? 0) : m.shards,
      batchSize: m.batchSize,
      backup: m.backup,
    };
  });
  return { ok: true, plan: { runId, policyName: policy.metadata.name, dryRun: spec.dryRun, strategy: spec.strategy, waves, migrations } };
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

/** Targets whose image is already the target: rollout will leave them untouched (for the summary). */
export function unchangedTargets(plan: RunPlan): PlannedTarget[] {
  return plan.waves.flatMap((w) => w.targets).filter((t) => t.previousImage === t.image);
}
