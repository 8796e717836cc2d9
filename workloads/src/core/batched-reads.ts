/**
 * How preflight reads many workloads of one cluster with few requests (pure): one read per namespace
 * and kind instead of one per workload, one access review per namespace, resource and verb instead of
 * one per workload and verb, and what each workload's facts are once those answers are in.
 */

/** The kinds of workload upshift upgrades. */
export type WorkloadKind = 'Deployment' | 'StatefulSet';

/** A workload container as the batching rules see it (a `WorkloadRef` without its cluster). */
export interface WorkloadKey {
  namespace: string;
  kind: WorkloadKind;
  name: string;
  container: string;
}

/**
 * One read of a namespace: `get` when a single workload of that kind is wanted there (one request,
 * nothing more read than needed, a 404 names it), `list` otherwise (one request per page, however many
 * workloads the namespace holds).
 */
export interface NamespaceRead {
  namespace: string;
  kind: WorkloadKind;
  /** The wanted workload names, each once, sorted. */
  names: string[];
  request: 'get' | 'list';
}

/** One access review asked once for a whole namespace: may the identity do `verb` on every `resource` there. */
export interface NamespaceQuestion {
  namespace: string;
  resource: 'deployments' | 'statefulsets';
  verb: string;
}

/** The API resource of a workload kind. */
export function resourceOf(kind: WorkloadKind): 'deployments' | 'statefulsets' {
  return kind === 'Deployment' ? 'deployments' : 'statefulsets';
}

/** The reads that cover `keys`: one per (namespace, kind), in a stable order. */
export function namespaceReads(keys: readonly WorkloadKey[]): NamespaceRead[] {
  const groups = new Map<string, { namespace: string; kind: WorkloadKind; names: Set<string> }>();
  for (const key of keys) {
    const id = `${key.namespace}/${key.kind}`;
    const group = groups.get(id) ?? { namespace: key.namespace, kind: key.kind, names: new Set<string>() };
    group.names.add(key.name);
    groups.set(id, group);
  }
  return [...groups.values()]
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind))
    .map(({ namespace, kind, names }) => ({ namespace, kind, names: [...names].sort(), request: names.size === 1 ? 'get' : 'list' }));
}

/** The namespace-wide access reviews that cover `keys` for `verbs`: one per (namespace, resource, verb). */
export function namespaceQuestions(keys: readonly WorkloadKey[], verbs: readonly string[]): NamespaceQuestion[] {
  const seen = new Map<string, NamespaceQuestion>();
  for (const key of keys) {
    for (const verb of verbs) {
      const question = { namespace: key.namespace, resource: resourceOf(key.kind), verb };
      seen.set(questionKey(question), question);
    }
  }
  return [...seen.values()];
}

/** The cache key of a namespace-wide question. */
export function questionKey(question: NamespaceQuestion): string {
  return `${question.namespace}/${question.resource}/${question.verb}`;
}

/**
 * The verbs denied to a workload given the namespace-wide answers and, where a namespace-wide review was
 * denied, the answer about that workload by name (a Role may grant a verb on named workloads only).
 */
export function deniedVerbsOf(
  key: WorkloadKey,
  verbs: readonly string[],
  namespaceAllowed: ReadonlyMap<string, boolean>,
  nameAllowed: (verb: string) => boolean | undefined,
): string[] {
  return verbs.filter((verb) => {
    if (namespaceAllowed.get(questionKey({ namespace: key.namespace, resource: resourceOf(key.kind), verb })) === true) return false;
    return nameAllowed(verb) !== true;
  });
}

/** What a read saw of one workload: its containers' images by container name; undefined when it does not exist. */
export type SeenWorkload = ReadonlyMap<string, string | undefined> | undefined;

/** What preflight reports about one workload container. */
export interface WorkloadFacts {
  /** undefined when rollout's identity may not `get` it, so it was not read. */
  found?: boolean;
  containerFound?: boolean;
  currentImage?: string;
  deniedVerbs: string[];
}

/**
 * The facts about one workload from what was read: without `get` for rollout the workload is not judged
 * (the missing permission is the problem, not a missing workload); else found or not, container or not.
 */
export function workloadFacts(key: WorkloadKey, seen: SeenWorkload, deniedVerbs: string[]): WorkloadFacts {
  if (deniedVerbs.includes('get')) return { deniedVerbs };
  if (seen === undefined) return { found: false, deniedVerbs };
  const image = seen.get(key.container);
  return { found: true, containerFound: image !== undefined, ...(image ? { currentImage: image } : {}), deniedVerbs };
}
