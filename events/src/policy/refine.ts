/**
 * Cross-reference rules of an UpgradePolicy that a field schema cannot express: unique names,
 * references to known clusters and services, an acyclic `dependsOn` graph (a cycle is named).
 */
import type { z } from 'zod';
import type { UpgradePolicySpec } from './schema.ts';

type Ctx = z.core.$RefinementCtx;
type Path = (string | number)[];

function problem(ctx: Ctx, path: Path, message: string): void {
  ctx.addIssue({ code: 'custom', message, path: ['spec', ...path] });
}

function checkUnique(ctx: Ctx, names: readonly string[], path: (i: number) => Path, what: string): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) problem(ctx, path(i), `duplicate ${what} "${name}"`);
    seen.add(name);
  });
}

function checkKnown(ctx: Ctx, known: ReadonlySet<string>, names: readonly string[], path: (j: number) => Path, what: string): void {
  names.forEach((name, j) => {
    if (!known.has(name)) problem(ctx, path(j), `unknown ${what} "${name}"`);
  });
}

/** Finds one dependency cycle (as a list of names, first repeated last), or undefined. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = graph.has(next) ? visit(next) : undefined;
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

function checkServices(spec: UpgradePolicySpec, ctx: Ctx, clusters: ReadonlySet<string>): void {
  const services = new Set(spec.services.map((s) => s.name));
  checkUnique(ctx, spec.services.map((s) => s.name), (i) => ['services', i, 'name'], 'service name');
  spec.services.forEach((s, i) => {
    checkUnique(ctx, s.clusters, (j) => ['services', i, 'clusters', j], 'cluster');
    checkKnown(ctx, clusters, s.clusters, (j) => ['services', i, 'clusters', j], 'cluster');
    checkKnown(ctx, services, s.dependsOn, (j) => ['services', i, 'dependsOn', j], 'service');
    s.dependsOn.forEach((d, j) => {
      if (d === s.name) problem(ctx, ['services', i, 'dependsOn', j], `service "${s.name}" depends on itself`);
    });
  });
  const graph = new Map(spec.services.map((s) => [s.name, s.dependsOn.filter((d) => d !== s.name)]));
  const cycle = findCycle(graph);
  if (cycle) {
    const index = spec.services.findIndex((s) => s.name === cycle[0]);
    problem(ctx, ['services', index, 'dependsOn'], `dependency cycle: ${cycle.join(' -> ')}`);
  }
}

function checkStrategy(spec: UpgradePolicySpec, ctx: Ctx, clusters: ReadonlySet<string>): void {
  const order = spec.strategy.clusterOrder;
  if (order === undefined) return;
  checkUnique(ctx, order, (j) => ['strategy', 'clusterOrder', j], 'cluster');
  checkKnown(ctx, clusters, order, (j) => ['strategy', 'clusterOrder', j], 'cluster');
  const listed = new Set(order);
  const missing = [...clusters].filter((c) => !listed.has(c));
  if (missing.length > 0) problem(ctx, ['strategy', 'clusterOrder'], `must list every cluster; missing ${missing.map((m) => `"${m}"`).join(', ')}`);
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
  checkUnique(ctx, spec.verification.checks.map((c) => c.name), (i) => ['verification', 'checks', i, 'name'], 'check name');
}
