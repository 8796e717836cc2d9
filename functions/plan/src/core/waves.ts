/** One service of the policy as wave computation sees it. */
export interface ServiceNode {
  name: string;
  /** The clusters this service runs in. */
  clusters: string[];
  /** Names of services that must be at their target everywhere before this one starts. */
  dependsOn: string[];
}

/** One unit of rollout work: a service in one cluster. */
export interface WaveItem {
  service: string;
  cluster: string;
}

/** Input of {@link computeWaves}: the policy's services and strategy. */
export interface WaveInput {
  services: ServiceNode[];
  /** Cluster order, canary first; clusters not named here follow in the order they first appear. */
  clusterOrder: string[];
  /** At most this many services roll out in one wave. */
  maxParallelServices: number;
}

/** The waves in order, or the reason there is no safe order. */
export type WavePlan =
  | { ok: true; waves: WaveItem[][] }
  | { ok: false; reason: 'cycle'; cycle: string[]; message: string }
  | { ok: false; reason: 'unknown-dependency'; service: string; dependency: string; message: string };

/**
 * Orders the rollout: services by dependency level (a service starts only after everything it depends on
 * is done in every cluster), at most `maxParallelServices` per wave, and each group of services cluster by
 * cluster in `clusterOrder`, so the canary cluster finishes a service before the next cluster starts it.
 * Deterministic: ties are broken by service name.
 */
export function computeWaves(input: WaveInput): WavePlan {
  const levels = dependencyLevels(input.services);
  if (!levels.ok) return levels;
  const byName = new Map(input.services.map((s) => [s.name, s]));
  const clusters = orderedClusters(input);
  const width = Math.max(1, Math.floor(input.maxParallelServices));
  const waves: WaveItem[][] = [];
  for (const level of levels.levels) {
    for (let start = 0; start < level.length; start += width) {
      const group = level.slice(start, start + width);
      for (const cluster of clusters) {
        const wave = group
          .filter((name) => byName.get(name)?.clusters.includes(cluster))
          .map((service) => ({ service, cluster }));
        if (wave.length > 0) waves.push(wave);
      }
    }
  }
  return { ok: true, waves };
}

function orderedClusters(input: WaveInput): string[] {
  const seen = new Set<string>();
  const order: string[] = [];
  for (const cluster of [...input.clusterOrder, ...input.services.flatMap((s) => s.clusters)]) {
    if (!seen.has(cluster)) {
      seen.add(cluster);
      order.push(cluster);
    }
  }
  return order;
}

type Levels =
  | { ok: true; levels: string[][] }
  | Extract<WavePlan, { ok: false }>;

/** Kahn's algorithm by levels; on a cycle, names one cycle (e.g. a → b → c → a). */
function dependencyLevels(services: ServiceNode[]): Levels {
  const names = new Set(services.map((s) => s.name));
  for (const service of services) {
    const missing = service.dependsOn.find((d) => !names.has(d));
    if (missing !== undefined) {
      return {
        ok: false,
        reason: 'unknown-dependency',
        service: service.name,
        dependency: missing,
        message: `service ${service.name} depends on ${missing}, which is not a service of this policy`,
      };
    }
  }
  // Unmet dependencies counted per service, and who waits on whom: each edge is visited once (1,000 services stay fast).
  const remaining = new Map(services.map((s) => [s.name, new Set(s.dependsOn)]));
  const dependents = new Map<string, string[]>();
  for (const [name, deps] of remaining) {
    for (const dep of deps) {
      const waiting = dependents.get(dep);
      if (waiting) waiting.push(name);
      else dependents.set(dep, [name]);
    }
  }
  const levels: string[][] = [];
  let ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([name]) => name).sort();
  while (remaining.size > 0) {
    if (ready.length === 0) {
      const cycle = findCycle(remaining);
      return { ok: false, reason: 'cycle', cycle, message: `dependency cycle: ${cycle.join(' → ')}` };
    }
    const next: string[] = [];
    for (const name of ready) remaining.delete(name);
    for (const name of ready) {
      for (const dependent of dependents.get(name) ?? []) {
        const deps = remaining.get(dependent);
        if (deps?.delete(name) && deps.size === 0) next.push(dependent);
      }
    }
    levels.push(ready);
    ready = next.sort();
  }
  return { ok: true, levels };
}

/** Walks unmet dependencies from the smallest name until a service repeats; every node left has one. */
function findCycle(remaining: Map<string, Set<string>>): string[] {
  const start = [...remaining.keys()].sort()[0] ?? '';
  const path: string[] = [];
  let current = start;
  while (!path.includes(current)) {
    path.push(current);
    current = [...(remaining.get(current) ?? [])].sort()[0] ?? start;
  }
  return [...path.slice(path.indexOf(current)), current];
}
