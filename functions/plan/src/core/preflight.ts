/** What plan saw of one cluster before changing anything. */
export interface ClusterSeen {
  cluster: string;
  /** Index in spec.clusters, for the field path of a problem. */
  index: number;
  reachable: boolean;
  /** Why not, e.g. "connect ECONNREFUSED 127.0.0.1:56443". */
  error?: string;
}

/** What plan saw of one service's workload in one cluster. */
export interface WorkloadSeen {
  service: string;
  /** Index in spec.services. */
  index: number;
  cluster: string;
  namespace: string;
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  container: string;
  /** undefined when the cluster could not be asked. */
  found?: boolean;
  containerFound?: boolean;
  currentImage?: string;
  /** Verbs rollout needs on this workload that its identity is denied, e.g. ['patch']. */
  deniedVerbs?: string[];
}

/** What plan saw of a migration's data store and catalog entry. */
export interface MigrationSeen {
  ref: string;
  index: number;
  inCatalog: boolean;
  reachable?: boolean;
  error?: string;
  /** The store answered but the migration does not fit it (e.g. the table has a composite primary key): the engine's preflight problems. */
  mismatch?: string;
}

/** One problem found by preflight, with the policy field it concerns. */
export interface Problem {
  path: string;
  message: string;
}

/**
 * Every problem preflight found (not just the first): unreachable clusters, missing workloads or
 * containers, missing permissions, unknown migrations, unreachable stores. Empty means go.
 */
export function preflightProblems(seen: { clusters: ClusterSeen[]; workloads: WorkloadSeen[]; migrations: MigrationSeen[] }): Problem[] {
  const problems: Problem[] = [];
  const unreachable = new Set(seen.clusters.filter((c) => !c.reachable).map((c) => c.cluster));
  for (const cluster of seen.clusters) {
    if (!cluster.reachable) {
      problems.push({ path: `spec.clusters[${cluster.index}]`, message: `cluster ${cluster.cluster} is unreachable: ${cluster.error ?? 'no answer'}` });
    }
  }
  for (const w of seen.workloads) {
    if (unreachable.has(w.cluster)) continue;
    const where = `${w.kind} ${w.namespace}/${w.name} in cluster ${w.cluster}`;
    const path = `spec.services[${w.index}]`;
    if (w.found === false) problems.push({ path: `${path}.workload`, message: `${where} does not exist` });
    else if (w.containerFound === false) problems.push({ path: `${path}.container`, message: `${where} has no container named ${w.container}` });
    if (w.deniedVerbs && w.deniedVerbs.length > 0) {
      problems.push({ path, message: `rollout may not ${w.deniedVerbs.join('/')} ${w.kind.toLowerCase()}s in namespace ${w.namespace} of cluster ${w.cluster}` });
    }
  }
  for (const m of seen.migrations) {
    const path = `spec.migrations[${m.index}].ref`;
    if (!m.inCatalog) problems.push({ path, message: `migration ${m.ref} is not in the catalog` });
    else if (m.reachable === false) problems.push({ path, message: `the data store of ${m.ref} is unreachable: ${m.error ?? 'no answer'}` });
    else if (m.mismatch !== undefined) problems.push({ path, message: `migration ${m.ref} does not fit its data store: ${m.mismatch}` });
  }
  return problems;
}
