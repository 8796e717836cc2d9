/** The verification checks against the real clusters and stores; each returns a verdict with evidence. */
import type { RunPlan } from '@upshift/events';
import { openEngine, plannedMigration, type Catalog, type Migration } from '@upshift/migrations';
import { observePods, observeWorkload, rolloutStatus, type ClusterRegistry } from '@upshift/workloads';
import { redactCredentials } from '@upshift/runtime';
import type { CheckResult } from '../core/verdict.ts';

/** Every workload of the plan runs its target image and is Available, in every cluster. */
export async function workloadsAvailable(name: string, plan: RunPlan, registry: ClusterRegistry): Promise<CheckResult> {
  const problems: string[] = [];
  const targets = plan.waves.flatMap((w) => w.targets);
  for (const t of targets) {
    const access = plan.clusters.find((c) => c.name === t.cluster);
    try {
      if (!access) throw new Error(`cluster ${t.cluster} is not in the plan`);
      const clients = registry.get(access);
      const ref = { cluster: t.cluster, namespace: t.namespace, kind: t.workload.kind, name: t.workload.name, container: t.container };
      const { observed, selector } = await observeWorkload(clients, ref);
      const phase = rolloutStatus(observed, t.image, await observePods(clients, t.namespace, selector));
      if (phase.phase !== 'Successful') problems.push(`${t.service} in ${t.cluster}: ${phase.message}`);
    } catch (error) {
      problems.push(`${t.service} in ${t.cluster}: ${redactCredentials(error instanceof Error ? error.message : String(error))}`);
    }
  }
  return {
    name, kind: 'workloadsAvailable', passed: problems.length === 0,
    message: problems.length === 0 ? `${targets.length} workloads available at their target images` : problems.join('; ').slice(0, 2000),
  };
}

/** No row/document of any migration is left at the old version marker. */
export async function noOldVersion(name: string, plan: RunPlan, catalog: Catalog, env: Readonly<Record<string, string | undefined>>): Promise<CheckResult> {
  const counts = await perMigration(plan, catalog, env, async (engine) => engine.countRemaining());
  const left = counts.filter(([, n]) => n !== 0);
  return {
    name, kind: 'noOldVersion', passed: left.length === 0,
    message: counts.map(([ref, n]) => `${ref}: ${typeof n === 'number' ? `${n} left at the old version` : n}`).join('; ') || 'no migrations',
  };
}

/** Each migration's own invariants hold. */
export async function invariants(name: string, plan: RunPlan, catalog: Catalog, env: Readonly<Record<string, string | undefined>>): Promise<CheckResult> {
  const results = await perMigration(plan, catalog, env, async (engine) => engine.checkInvariants());
  const lines: string[] = [];
  let passed = true;
  for (const [ref, outcome] of results) {
    if (typeof outcome === 'string') {
      passed = false;
      lines.push(`${ref}: ${outcome}`);
      continue;
    }
    for (const inv of outcome) {
      passed &&= inv.ok;
      lines.push(`${ref}: ${inv.name}: ${inv.actual} (expected ${inv.expected})`);
    }
  }
  return { name, kind: 'invariants', passed, message: (lines.join('; ') || 'no invariants').slice(0, 2000) };
}

/** Runs `probe` on each migration's engine; a failure becomes that migration's message (never a crash). */
async function perMigration<T>(
  plan: RunPlan, catalog: Catalog, env: Readonly<Record<string, string | undefined>>, probe: (engine: ReturnType<typeof openEngine>) => Promise<T>,
): Promise<Array<[string, T | string]>> {
  const results: Array<[string, T | string]> = [];
  for (const { ref, checksum } of plan.migrations) {
    const migration = plannedEntry(catalog, ref, checksum);
    if (typeof migration === 'string') {
      results.push([ref, migration]);
      continue;
    }
    const engine = openEngine(migration, env, { poolSize: 1, readOnly: true });
    try {
      results.push([ref, await probe(engine)]);
    } catch (error) {
      results.push([ref, `could not be checked: ${redactCredentials(error instanceof Error ? error.message : String(error))}`]);
    } finally {
      await engine.close().catch(() => undefined);
    }
  }
  return results;
}

/**
 * The catalog entry the run planned (its checksum pinned in the plan), or why it cannot be checked: not
 * in the catalog, or changed since the run was planned — then the check fails and the failure policy applies.
 */
function plannedEntry(catalog: Catalog, ref: string, checksum: string | undefined): Migration | string {
  if (checksum === undefined && !catalog.migrations.has(ref)) return 'not in the catalog';
  try {
    return plannedMigration(catalog, ref, checksum);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
