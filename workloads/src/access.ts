/**
 * Preflight facts about the workloads of one cluster, read without changing anything: does each exist,
 * does it have the container, what image it runs, and may rollout's identity get and patch it. Batched
 * (core/batched-reads.ts): one access review per namespace, resource and verb (asked by name only where
 * the namespace-wide answer is no), one list per namespace and kind (pages of 500, kubectl's chunk size),
 * or one get when a single workload of that kind is wanted there.
 */
import { ApiException, type V1Deployment, type V1StatefulSet } from '@kubernetes/client-node';
import type { ServiceSpec } from '@upshift/events';
import { UpshiftError } from '@upshift/runtime';
import pLimit from 'p-limit';
import type { ClusterClients } from './clusters.ts';
import {
  deniedVerbsOf, namespaceQuestions, namespaceReads, questionKey, resourceOf, workloadFacts,
  type NamespaceQuestion, type NamespaceRead, type SeenWorkload, type WorkloadFacts,
} from './core/batched-reads.ts';
import { isNotFound, networkReason } from './kubernetes-errors.ts';
import type { WorkloadRef } from './workload.ts';

/** The verbs rollout needs on each workload it upgrades. */
export const rolloutVerbs = ['get', 'patch'] as const;

/** Workloads per page of a list (kubectl's default `--chunk-size`). */
export const listPageSize = 500;

/** Requests one cluster is asked at once during preflight. */
const inFlight = 8;

/** What preflight saw of one workload container; `found` is undefined when `get` is denied. */
export type WorkloadAccess = WorkloadRef & WorkloadFacts;

/** The workload container of a policy service in one of its clusters. */
export function refOfService(service: ServiceSpec, cluster: string): WorkloadRef {
  return { cluster, namespace: service.namespace, kind: service.workload.kind, name: service.workload.name, container: service.container };
}

/** Reads one workload and checks that rollout's identity may get and patch it. */
export async function observeWorkloadAccess(clients: ClusterClients, ref: WorkloadRef, rolloutIdentity?: string): Promise<WorkloadAccess> {
  const [access] = await observeWorkloadsAccess(clients, [ref], rolloutIdentity);
  if (!access) throw new Error(`no access facts for ${ref.namespace}/${ref.name}`);
  return access;
}

/**
 * The facts about every workload of `refs` (all of `clients`' cluster), in `refs` order, with a number of
 * requests that grows with the namespaces named, not with the workloads.
 */
export async function observeWorkloadsAccess(clients: ClusterClients, refs: readonly WorkloadRef[], rolloutIdentity?: string): Promise<WorkloadAccess[]> {
  const limit = pLimit(inFlight);
  const readLimit = pLimit(inFlight); // its own limit: a namespace read waits on `limit` for its fallback gets
  // The reads go out with the access reviews (what plan may read does not hang on rollout's rights); a
  // workload rollout may not `get` is not judged, so a read that failed only for such workloads is moot.
  const reads = namespaceReads(refs).map((read) => ({
    read,
    outcome: readLimit(() => readNamespace(clients, read, limit)).then((seen) => ({ seen }), (error: unknown) => ({ error })),
  }));
  const denied = await deniedVerbsByRef(clients, refs, rolloutIdentity, limit);
  const judged = new Set(refs.filter((_, index) => !denied[index]?.includes('get')).map(keyOf));
  const seen = new Map<string, SeenWorkload>();
  for (const { read, outcome } of reads) {
    const answer = await outcome;
    if ('seen' in answer) for (const [name, images] of answer.seen) seen.set(keyOf({ ...read, name }), images);
    else if (read.names.some((name) => judged.has(keyOf({ ...read, name })))) throw answer.error;
  }
  return refs.map((ref, index) => ({ ...ref, ...workloadFacts(ref, seen.get(keyOf(ref)), denied[index] ?? []) }));
}

function keyOf(workload: { namespace: string; kind: string; name: string }): string {
  return `${workload.namespace}/${workload.kind}/${workload.name}`;
}

/** The verbs denied to each ref (by index): namespace-wide reviews, then by name where one said no. */
async function deniedVerbsByRef(clients: ClusterClients, refs: readonly WorkloadRef[], identity: string | undefined, limit: ReturnType<typeof pLimit>): Promise<string[][]> {
  const questions = namespaceQuestions(refs, rolloutVerbs);
  const answers = await Promise.all(questions.map((q) => limit(() => allowed(clients, q, identity))));
  const namespaceAllowed = new Map(questions.map((q, i) => [questionKey(q), answers[i] === true]));
  return Promise.all(refs.map(async (ref) => {
    const byName = new Map<string, boolean>();
    for (const verb of rolloutVerbs) {
      const question = { namespace: ref.namespace, resource: resourceOf(ref.kind), verb };
      if (!namespaceAllowed.get(questionKey(question))) byName.set(verb, await limit(() => allowed(clients, question, identity, ref.name)));
    }
    return deniedVerbsOf(ref, rolloutVerbs, namespaceAllowed, (verb) => byName.get(verb));
  }));
}

/**
 * One access review: a SubjectAccessReview for `identity`, or a SelfSubjectAccessReview when the caller
 * holds the same credential as rollout; about the whole namespace, or one workload by name.
 */
async function allowed(clients: ClusterClients, question: NamespaceQuestion, identity: string | undefined, name?: string): Promise<boolean> {
  const resourceAttributes = { group: 'apps', resource: question.resource, verb: question.verb, namespace: question.namespace, ...(name ? { name } : {}) };
  const review = identity
    ? await clients.authorization.createSubjectAccessReview({
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: identity, groups: groupsOf(identity), resourceAttributes } },
    })
    : await clients.authorization.createSelfSubjectAccessReview({
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } },
    });
  return review.status?.allowed === true;
}

type Workload = V1Deployment | V1StatefulSet;

/**
 * The wanted workloads of one read that exist, with their containers' images. A list the credential may
 * not make (403) falls back to a get per wanted workload, so a Role granting `get` alone still works.
 */
async function readNamespace(clients: ClusterClients, read: NamespaceRead, limit: ReturnType<typeof pLimit>): Promise<Map<string, SeenWorkload>> {
  if (read.request === 'list') {
    try {
      const wanted = new Set(read.names);
      return new Map((await listAll(clients, read)).filter((w) => wanted.has(w.metadata?.name ?? '')).map((w) => [w.metadata?.name ?? '', imagesOf(w)]));
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 403)) throw listFailure(clients, read, error);
    }
  }
  const found = await Promise.all(read.names.map((name) => (read.request === 'get' ? getOne(clients, read, name) : limit(() => getOne(clients, read, name)))));
  return new Map(read.names.flatMap((name, i) => (found[i] ? [[name, found[i]] as const] : [])));
}

/** Every workload of the read's kind in its namespace, page by page. */
async function listAll(clients: ClusterClients, read: NamespaceRead): Promise<Workload[]> {
  const items: Workload[] = [];
  let next: string | undefined;
  do {
    const request = { namespace: read.namespace, limit: listPageSize, ...(next ? { _continue: next } : {}) };
    const page = read.kind === 'Deployment' ? await clients.apps.listNamespacedDeployment(request) : await clients.apps.listNamespacedStatefulSet(request);
    items.push(...page.items);
    next = page.metadata?._continue || undefined;
  } while (next);
  return items;
}

/** One workload by name; undefined when it does not exist. Other failures name the workload (kubernetes-errors.ts). */
async function getOne(clients: ClusterClients, read: NamespaceRead, name: string): Promise<SeenWorkload> {
  const request = { namespace: read.namespace, name };
  try {
    return imagesOf(read.kind === 'Deployment' ? await clients.apps.readNamespacedDeployment(request) : await clients.apps.readNamespacedStatefulSet(request));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function imagesOf(workload: Workload): SeenWorkload {
  return new Map((workload.spec?.template.spec?.containers ?? []).map((c) => [c.name, c.image]));
}

/** A failed list as an error naming the cluster, verb, resource and namespace (retried: the cluster answered badly or not at all). */
function listFailure(clients: ClusterClients, read: NamespaceRead, error: unknown): UpshiftError {
  const answer = error instanceof ApiException ? `answered ${error.code}` : `did not answer (${networkReason(error)})`;
  return new UpshiftError('UNAVAILABLE', `cluster ${clients.cluster} ${answer} to list ${resourceOf(read.kind)} in namespace ${read.namespace}`, {
    cause: error, context: { cluster: clients.cluster, namespace: read.namespace },
  });
}

/** The groups Kubernetes gives a ServiceAccount user (RBAC bindings to them count too). */
function groupsOf(user: string): string[] {
  const match = /^system:serviceaccount:([^:]+):[^:]+$/.exec(user);
  return match ? ['system:serviceaccounts', `system:serviceaccounts:${match[1]}`, 'system:authenticated'] : ['system:authenticated'];
}
