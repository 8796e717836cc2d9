/**
 * Least privilege, proven against the real API servers: the generated RBAC (knative/rbac) is applied
 * for real into a fresh set of namespaces — the install namespace, one per namespace install.yaml lists,
 * and one it does not list — with ClusterRoles and bindings renamed with a unique suffix (deleted
 * after). SubjectAccessReviews then ask what each function's ServiceAccount may do in a listed namespace,
 * in the unlisted one, in kube-system and cluster-wide, and impersonated kubectl calls show rollout
 * patching a real Deployment where it may and nowhere else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { apiClientMaker } from '@upshift/workloads';
import { stringify } from 'yaml';
import { loadInstallSettings } from '../src/install.ts';
import { deployments, NAMESPACE } from '../src/spec.ts';
import { kubeEnv, kubectl, kustomize, repoRoot, unique } from './support/kubectl.ts';
import type { KubeObject } from './support/kubectl.ts';

/** One question: may `fn` do `verb` on `resource` (group/resource), in a namespace or cluster-wide? */
interface Question { readonly verb: string; readonly group: string; readonly resource: string; readonly namespaced?: boolean }

const q = (verb: string, resource: string, group = 'apps', namespaced = true): Question => ({ verb, group, resource, namespaced });
const describeQuestion = (question: Question) => `${question.verb} ${question.resource}`;

/** What every function must be refused everywhere: Secrets, creating pods, deleting or replacing anything. */
const refusedToAll: readonly Question[] = [
  q('get', 'secrets', ''), q('list', 'secrets', ''), q('watch', 'secrets', ''), q('create', 'pods', ''), q('create', 'pods/exec', ''),
  q('delete', 'deployments'), q('delete', 'statefulsets'), q('delete', 'pods', ''), q('deletecollection', 'deployments'),
  q('create', 'deployments'), q('update', 'deployments'), q('escalate', 'clusterroles', 'rbac.authorization.k8s.io', false),
];

/** Every write a workload right could mean: refused outside the listed namespaces to every function, and to plan and verify everywhere. */
const writes: readonly Question[] = [q('patch', 'deployments'), q('patch', 'statefulsets'), q('patch', 'replicasets'), q('patch', 'pods', ''), q('update', 'statefulsets')];

const expectations: Readonly<Record<string, { allowed: readonly Question[]; refused: readonly Question[]; clusterWide: readonly Question[] }>> = {
  rollout: {
    allowed: [q('patch', 'deployments'), q('patch', 'statefulsets'), q('get', 'deployments'), q('list', 'statefulsets'), q('watch', 'deployments'), q('get', 'replicasets'), q('list', 'pods', '')],
    refused: [q('patch', 'replicasets'), q('patch', 'pods', ''), q('update', 'statefulsets')],
    clusterWide: [],
  },
  plan: {
    // plan asks whether rollout's identity may patch (SubjectAccessReview, cluster-scoped); it may not patch itself.
    allowed: [q('get', 'deployments'), q('list', 'statefulsets'), q('watch', 'deployments'), q('list', 'pods', '')],
    refused: writes,
    clusterWide: [q('create', 'subjectaccessreviews', 'authorization.k8s.io', false)],
  },
  verify: {
    allowed: [q('get', 'statefulsets'), q('list', 'deployments'), q('get', 'pods', '')],
    refused: [...writes, q('create', 'subjectaccessreviews', 'authorization.k8s.io', false)],
    clusterWide: [],
  },
  'migrate-shard': {
    allowed: [],
    refused: [q('get', 'deployments'), q('list', 'pods', ''), ...writes],
    clusterWide: [],
  },
};

const settings = loadInstallSettings(repoRoot);

/** The namespaces of one test run: the install's, one per listed namespace, and one nobody listed. */
interface Namespaces { install: string; listed: Map<string, string>; unlisted: string }

function namespacesFor(run: string): Namespaces {
  return { install: run, listed: new Map(settings.targetNamespaces.map((name, i) => [name, `${run}-t${i}`])), unlisted: `${run}-unlisted` };
}

/**
 * The RBAC build moved into this run's namespaces (install namespace and each listed one), cluster-scoped
 * names and the roleRefs to them suffixed so parallel runs never collide.
 */
function isolated(objects: readonly KubeObject[], ns: Namespaces): KubeObject[] {
  const moved = (namespace: string): string => (namespace === NAMESPACE ? ns.install : ns.listed.get(namespace) ?? assert.fail(`unexpected namespace ${namespace}`));
  return objects.map((o) => {
    const copy = structuredClone(o);
    if (copy.kind === 'Namespace') copy.metadata.name = ns.install;
    else if (copy.metadata.namespace) copy.metadata.namespace = moved(copy.metadata.namespace);
    if (copy.kind.startsWith('Cluster')) copy.metadata.name = `${copy.metadata.name}-${ns.install}`;
    if (copy.kind.endsWith('Binding')) {
      const ref = copy['roleRef'] as { kind: string; name: string };
      if (ref.kind === 'ClusterRole') ref.name = `${ref.name}-${ns.install}`;
      for (const subject of copy['subjects'] as { namespace: string }[]) subject.namespace = moved(subject.namespace);
    }
    return copy;
  });
}

function authorization(context: string): AuthorizationV1Api {
  kubeEnv();
  const config = new KubeConfig();
  config.loadFromDefault();
  config.setCurrentContext(context);
  return apiClientMaker(config)(AuthorizationV1Api);
}

/** Whether the ServiceAccount may do `question` in `target` (undefined: cluster-wide, for any namespace). */
async function allowed(api: AuthorizationV1Api, installNamespace: string, account: string, question: Question, target: string | undefined): Promise<boolean> {
  const [resource, subresource] = question.resource.split('/');
  const review = await api.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${installNamespace}:${account}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${installNamespace}`, 'system:authenticated'],
        resourceAttributes: { verb: question.verb, group: question.group, resource, ...(subresource ? { subresource } : {}), ...(question.namespaced === false || target === undefined ? {} : { namespace: target }) },
      },
    },
  });
  return review.status?.allowed === true;
}

const clusters = ['upshift-a', 'upshift-b'] as const;

for (const cluster of clusters) {
  describe(`least privilege of the generated RBAC in ${cluster}`, { timeout: 240_000 }, () => {
    const ns = namespacesFor(`kn-rbac-${unique()}`);
    const listed = [...ns.listed.values()];
    let objects: KubeObject[] = [];
    before(async () => {
      objects = isolated(await kustomize('knative/rbac'), ns);
      // The target namespaces exist before upshift's RBAC is applied (README: apply after creating them).
      for (const name of [...listed, ns.unlisted]) {
        const created = await kubectl(['--context', cluster, 'create', 'namespace', name]);
        assert.ok(created.ok, created.stderr);
      }
      const applied = await kubectl(['--context', cluster, 'apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
      assert.ok(applied.ok, applied.stderr);
    });
    after(async () => {
      const clusterScoped = objects.filter((o) => o.kind.startsWith('Cluster')).map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}`);
      if (clusterScoped.length > 0) await kubectl(['--context', cluster, 'delete', '--ignore-not-found', ...clusterScoped]);
      await kubectl(['--context', cluster, 'delete', 'namespace', ns.install, ...listed, ns.unlisted, '--wait=false', '--ignore-not-found']);
    });

    for (const fn of deployments) {
      const expected = expectations[fn.name];
      test(`${fn.name}: in each listed namespace exactly what it needs; no Secrets, no pod creation, no deletes`, async () => {
        assert.ok(expected, `no expectations for ${fn.name}`);
        const api = authorization(cluster);
        for (const target of listed) {
          for (const question of expected.allowed) {
            assert.equal(await allowed(api, ns.install, fn.resourceName, question, target), true, `${fn.name} should ${describeQuestion(question)} in ${target}`);
          }
          for (const question of [...expected.refused, ...refusedToAll]) {
            assert.equal(await allowed(api, ns.install, fn.resourceName, question, target), false, `${fn.name} must not ${describeQuestion(question)} in ${target}`);
          }
        }
        for (const question of expected.clusterWide) {
          assert.equal(await allowed(api, ns.install, fn.resourceName, question, undefined), true, `${fn.name} should ${describeQuestion(question)}`);
        }
      });

      test(`${fn.name}: nothing on workloads in kube-system, in a namespace the install does not list, or cluster-wide`, async () => {
        assert.ok(expected, `no expectations for ${fn.name}`);
        const api = authorization(cluster);
        const everything = [...expected.allowed.filter((question) => question.namespaced !== false), ...writes, ...refusedToAll];
        for (const target of ['kube-system', ns.unlisted, undefined]) {
          for (const question of everything) {
            assert.equal(await allowed(api, ns.install, fn.resourceName, question, target), false, `${fn.name} must not ${describeQuestion(question)} in ${target ?? 'every namespace'}`);
          }
        }
      });
    }

    test('impersonated: rollout patches a real Deployment in a listed namespace, not in an unlisted one, and deletes nothing; plan, verify and migrate-shard patch nothing', async () => {
      const [target] = listed;
      assert.ok(target, 'install.yaml lists no namespace');
      for (const namespace of [target, ns.unlisted]) {
        const created = await kubectl(['--context', cluster, '-n', namespace, 'create', 'deployment', 'web', '--image=registry.local/web:1']);
        assert.ok(created.ok, created.stderr);
      }
      const as = (fn: string, namespace: string) => ['--context', cluster, '-n', namespace, `--as=system:serviceaccount:${ns.install}:upshift-${fn}`];
      const patch = ['patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.local/web:2"}]'];
      const patched = await kubectl([...as('rollout', target), ...patch]);
      assert.ok(patched.ok, patched.stderr);
      const outside = await kubectl([...as('rollout', ns.unlisted), ...patch]);
      assert.equal(outside.ok, false, 'rollout patched a Deployment in a namespace the install does not list');
      assert.match(outside.stderr, /forbidden/i);
      const deleted = await kubectl([...as('rollout', target), 'delete', 'deployment', 'web']);
      assert.equal(deleted.ok, false);
      assert.match(deleted.stderr, /forbidden/i);
      for (const fn of ['plan', 'verify', 'migrate-shard']) {
        const attempt = await kubectl([...as(fn, target), ...patch]);
        assert.equal(attempt.ok, false, `${fn} patched a Deployment`);
        assert.match(attempt.stderr, /forbidden/i);
      }
      const image = (namespace: string) => kubectl(['--context', cluster, '-n', namespace, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
      assert.equal((await image(target)).stdout, 'registry.local/web:2');
      assert.equal((await image(ns.unlisted)).stdout, 'registry.local/web:1', 'the unlisted namespace is untouched');
    });
  });
}

test('no generated rule names Secrets, wildcards, or a verb that creates or deletes workloads', async () => {
  const roles = (await kustomize('knative/rbac')).filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  for (const role of roles) {
    for (const rule of role['rules'] as { resources: string[]; verbs: string[]; apiGroups: string[] }[]) {
      assert.ok(!rule.resources.includes('secrets') && !rule.resources.includes('*'), `${role.metadata.name}: ${rule.resources.join(',')}`);
      assert.ok(!rule.verbs.some((verb) => ['*', 'delete', 'deletecollection', 'update', 'escalate', 'bind', 'impersonate'].includes(verb)), `${role.metadata.name}: ${rule.verbs.join(',')}`);
      assert.ok(!rule.verbs.includes('create') || rule.resources.every((r) => r === 'subjectaccessreviews'), `${role.metadata.name} creates ${rule.resources.join(',')}`);
    }
  }
});

test('workload rights are bound only by RoleBindings in the listed namespaces; a ClusterRoleBinding binds only cluster-scoped access reviews', async () => {
  const built = await kustomize('knative/rbac');
  const roles = new Map(built.filter((o) => o.kind === 'ClusterRole').map((o) => [o.metadata.name, o['rules'] as { resources: string[] }[]]));
  for (const binding of built.filter((o) => o.kind === 'ClusterRoleBinding')) {
    const rules = roles.get((binding['roleRef'] as { name: string }).name) ?? [];
    assert.deepEqual(rules.flatMap((rule) => rule.resources), ['subjectaccessreviews'], `${binding.metadata.name} binds more than access reviews cluster-wide`);
  }
  const roleBindings = built.filter((o) => o.kind === 'RoleBinding');
  assert.deepEqual([...new Set(roleBindings.map((o) => o.metadata.namespace))].sort(), [...settings.targetNamespaces].sort());
  for (const fn of deployments.filter((d) => d.targetRules.length > 0)) {
    assert.deepEqual(roleBindings.filter((o) => o.metadata.name === fn.resourceName).map((o) => o.metadata.namespace).sort(), [...settings.targetNamespaces].sort(), `${fn.name} is bound in each listed namespace`);
  }
});
