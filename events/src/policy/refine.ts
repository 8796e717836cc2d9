/**
 * Cross-reference rules of an UpgradePolicy that a field schema cannot express: unique names,
 * references to known clusters and services, an acyclic `dependsOn` graph (a cycle is named).
 */
import type { z } from 'zod';
import { policyLimits, problemLimits } from './limits.ts';
import { boundText } from './problems.ts';
import type { UpgradePolicySpec } from './schema.ts';

type Ctx = z.core.$RefinementCtx;
type Path = (string | number)[];

function problem(ctx: Ctx, path: Path, message: string): void {
  ctx.addIssue({ code: 'custom', message, path: ['spec', ...path] });
}

function checkUnique(ctx: Ctx, names: readonly string[], path: (i: number) => Path, what: string): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) problem(ctx, path(i), `duplicate ${what} ${quoted(name)}`);
    seen.add(name);
  });
}

function checkKnown(ctx: Ctx, known: ReadonlySet<string>, names: readonly string[], path: (j: number) => Path, what: string): void {
  names.forEach((name, j) => {
    if (!known.has(name)) problem(ctx, path(j), `unknown ${what} ${quoted(name)}`);
  });
}

/**
 * Finds one dependency cycle (as a list of names, first repeated last), or undefined. A depth-first
 * walk with its own stack, not recursion: a dependsOn chain of any length cannot overflow the call stack.
 */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const edges: (readonly string[])[] = [];
  const positions: number[] = [];
  for (const root of graph.keys()) {
    if (state.has(root)) continue;
    state.set(root, 'visiting');
    path.push(root);
    edges.push(graph.get(root) ?? []);
    positions.push(0);
    while (path.length > 0) {
      const top = path.length - 1;
      const child = edges[top]?.[positions[top] ?? 0];
      if (child === undefined) {
        state.set(path[top] ?? '', 'done');
        path.pop();
        edges.pop();
        positions.pop();
        continue;
      }
      positions[top] = (positions[top] ?? 0) + 1;
      if (!graph.has(child)) continue;
      const seen = state.get(child);
      if (seen === 'visiting') return [...path.slice(path.indexOf(child)), child];
      if (seen === undefined) {
        state.set(child, 'visiting');
        path.push(child);
        edges.push(graph.get(child) ?? []);
        positions.push(0);
      }
    }
  }
  return undefined;
}

/** A name as quoted in a message: cut short, so a huge invalid name is not echoed whole. */
function quoted(name: string): string {
  return `"${boundText(name, problemLimits.keyChars)}"`;
}

function checkServices(spec: UpgradePolicySpec, ctx: Ctx, clusters: ReadonlySet<string>): void {
  const services = new Set(spec.services.map((s) => s.name));
  checkUnique(ctx, spec.services.map((s) => s.name), (i) => ['services', i, 'name'], 'service name');
  spec.services.forEach((s, i) => {
    checkUnique(ctx, s.clusters, (j) => ['services', i, 'clusters', j], 'cluster');
    checkKnown(ctx, clusters, s.clusters, (j) => ['services', i, 'clusters', j], 'cluster');
    checkKnown(ctx, services, s.dependsOn, (j) => ['services', i, 'dependsOn', j], 'service');
    s.dependsOn.forEach((d, j) => {
      if (d === s.name) problem(ctx, ['services', i, 'dependsOn', j], `service ${quoted(s.name)} depends on itself`);
    });
  });
  const graph = new Map(spec.services.map((s) => [s.name, s.dependsOn.filter((d) => d !== s.name)]));
  const cycle = findCycle(graph);
  if (cycle) {
    const index = spec.services.findIndex((s) => s.name === cycle[0]);
    problem(ctx, ['services', index, 'dependsOn'], `dependency cycle: ${cycle.join(' -> ')}`);
  }
  const targets = spec.services.reduce((sum, s) => sum + s.clusters.length, 0);
  if (targets > policyLimits.targets) {
    problem(ctx, ['services'], `must name at most ${policyLimits.targets} (service, cluster) pairs; these services name ${targets}`);
  }
}

function checkStrategy(spec: UpgradePolicySpec, ctx: Ctx, clusters: ReadonlySet<string>): void {
  const order = spec.strategy.clusterOrder;
  if (order === undefined) return;
  checkUnique(ctx, order, (j) => ['strategy', 'clusterOrder', j], 'cluster');
  checkKnown(ctx, clusters, order, (j) => ['strategy', 'clusterOrder', j], 'cluster');
  const listed = new Set(order);
  const missing = [...clusters].filter((c) => !listed.has(c));
  if (missing.length > 0) problem(ctx, ['strategy', 'clusterOrder'], `must list every cluster; missing ${missing.slice(0, 5).map(quoted).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
}

/** Adds an issue, with its `spec.…` path, for every broken cross-reference of a parsed spec. */
export function checkCrossReferences(spec: UpgradePolicySpec, ctx: Ctx): void {
  const clusters = new Set(spec.clusters.map((c) => c.name));
  checkUnique(ctx, spec.clusters.map((c) => c.name), (i) => ['clusters', i, 'name'], 'cluster name');
  checkServices(spec, ctx, clusters);
  checkStrategy(spec, ctx, clusters);
  const services = new Set(spec.services.map((s) => s.name));
  checkUnique(ctx, spec.migrations.map((m) => m.ref.split('@')[0] ?? m.ref), (i) => ['migrations', i, 'ref'], 'migration');
  spec.migrations.forEach((m, i) => checkKnown(ctx, services, m.after, (j) => ['migrations', i, 'after', j], 'service'));
  const shards = spec.migrations.reduce((sum, m) => sum + (m.shards === 'auto' ? 0 : m.shards), 0);
  if (shards > policyLimits.shardsPerRun) {
    problem(ctx, ['migrations'], `must ask for at most ${policyLimits.shardsPerRun} shards over all migrations; these ask for ${shards}`);
  }
  checkUnique(ctx, spec.verification.checks.map((c) => c.name), (i) => ['verification', 'checks', i, 'name'], 'check name');
}
