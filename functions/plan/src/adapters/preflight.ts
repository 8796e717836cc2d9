/**
 * Preflight (reads only): every cluster's `/readyz`, every (service, cluster) workload with rollout's
 * rights on it, every migration's catalog entry and store, all observed before anything changes. The
 * clusters are read at once, each with a number of requests that grows with the namespaces the policy
 * names, not with its workloads (`observeWorkloadsAccess`); the stores are probed meanwhile.
 */
import type { FieldProblem, UpgradePolicy } from '@upshift/events';
import { observeCluster, observeWorkloadsAccess, refOfService, type WorkloadRef } from '@upshift/workloads';
import { preflightProblems, type ClusterSeen, type WorkloadSeen } from '../core/preflight.ts';
import { observeMigrations, type MigrationFacts } from './catalog.ts';
import type { PlanDeps } from '../plan-run.ts';

/** What preflight saw, and every problem it found (empty: go). */
export interface PreflightResult {
  workloads: WorkloadSeen[];
  migrations: MigrationFacts[];
  problems: FieldProblem[];
}

/** Observes the policy's clusters, workloads and migrations; changes nothing. */
export async function preflight(policy: UpgradePolicy, deps: PlanDeps): Promise<PreflightResult> {
  const [{ clusters, workloads }, migrations] = await Promise.all([observeClusters(policy, deps), migrationsOf(policy, deps)]);
  const problems: FieldProblem[] = preflightProblems({ clusters, workloads, migrations });
  if (deps.catalog.error && policy.spec.migrations.length > 0) problems.push({ path: 'spec.migrations', message: `the migration catalog cannot be loaded: ${deps.catalog.error}` });
  return { workloads, problems, migrations };
}

/** Each cluster's readiness, then the workloads of the reachable ones, in policy order (service, then its clusters). */
async function observeClusters(policy: UpgradePolicy, deps: PlanDeps): Promise<{ clusters: ClusterSeen[]; workloads: WorkloadSeen[] }> {
  const clusters = await Promise.all(policy.spec.clusters.map(async (cluster, index) => ({ ...await observeCluster(deps.clusters.get(cluster)), index })));
  const reachable = new Set(clusters.filter((c) => c.reachable).map((c) => c.cluster));
  const wanted = policy.spec.services.flatMap((service, index) => service.clusters
    .filter((cluster) => reachable.has(cluster))
    .map((cluster) => ({ service: service.name, index, ref: refOfService(service, cluster) })));
  const seen = new Map<WorkloadRef, WorkloadSeen>();
  await Promise.all(policy.spec.clusters.filter((c) => reachable.has(c.name)).map(async (cluster) => {
    const inCluster = wanted.filter((w) => w.ref.cluster === cluster.name);
    const access = await observeWorkloadsAccess(deps.clusters.get(cluster), inCluster.map((w) => w.ref), deps.rolloutIdentity);
    inCluster.forEach((w, i) => {
      const facts = access[i];
      if (facts) seen.set(w.ref, { service: w.service, index: w.index, ...facts });
    });
  }));
  return { clusters, workloads: wanted.flatMap((w) => seen.get(w.ref) ?? []) };
}

async function migrationsOf(policy: UpgradePolicy, deps: PlanDeps): Promise<MigrationFacts[]> {
  return deps.catalog.catalog
    ? observeMigrations(policy, deps.catalog.catalog, deps.env)
    : policy.spec.migrations.map((m, index): MigrationFacts => ({ ref: m.ref, index, inCatalog: false }));
}
