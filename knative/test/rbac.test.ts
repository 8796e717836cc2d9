/**
 * Least privilege, proven against the real API servers: the generated RBAC (knative/rbac) is applied
 * for real in a fresh namespace (ClusterRoles and bindings renamed with a unique suffix, deleted after),
 * then SubjectAccessReviews ask what each function's ServiceAccount may do in a target namespace, and
 * impersonated kubectl calls show rollout patching a real Deployment but not deleting it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { deployments } from '../src/spec.ts';
import { kubeEnv, kubectl, kustomize, unique } from './support/kubectl.ts';
import type { KubeObject } from './support/kubectl.ts';

/** One question: may `fn` do `verb` on `resource` (group/resource) in the target namespace? */
interface Question { readonly verb: string; readonly group: string; readonly resource: string; readonly namespaced?: boolean }

const q = (verb: string, resource: string, group = 'apps', namespaced = true): Question => ({ verb, group, resource, namespaced });

/** What every function must be refused: Secrets, creating pods, deleting anything. */
const refusedToAll: readonly Question[] = [
  q('get', 'secrets', ''), q('list', 'secrets', ''), q('watch', 'secrets', ''), q('create', 'pods', ''), q('create', 'pods/exec', ''),
  q('delete', 'deployments'), q('delete', 'statefulsets'), q('delete', 'pods', ''), q('deletecollection', 'deployments'),
  q('create', 'deployments'), q('update', 'deployments'), q('escalate', 'clusterroles', 'rbac.authorization.k8s.io', false),
];

const expectations: Readonly<Record<string, { allowed: readonly Question[]; refused: readonly Question[] }>> = {
  rollout: {
    allowed: [q('patch', 'deployments'), q('patch', 'statefulsets'), q('get', 'deployments'), q('list', 'statefulsets'), q('watch', 'deployments'), q('get', 'replicasets'), q('list', 'pods', '')],
    refused: [q('patch', 'replicasets'), q('patch', 'pods', ''), q('update', 'statefulsets')],
  },
  plan: {
    // plan asks whether rollout's identity may patch (SubjectAccessReview); it may not patch itself.
    allowed: [q('get', 'deployments'), q('list', 'statefulsets'), q('watch', 'deployments'), q('list', 'pods', ''), q('create', 'subjectaccessreviews', 'authorization.k8s.io', false)],
    refused: [q('patch', 'deployments'), q('patch', 'statefulsets')],
  },
  verify: {
    allowed: [q('get', 'statefulsets'), q('list', 'deployments'), q('get', 'pods', '')],
    refused: [q('patch', 'deployments'), q('patch', 'statefulsets'), q('create', 'subjectaccessreviews', 'authorization.k8s.io', false)],
  },
  'migrate-shard': {
    allowed: [],
    refused: [q('get', 'deployments'), q('list', 'pods', ''), q('patch', 'deployments'), q('patch', 'statefulsets')],
  },
};

/** The RBAC build moved into `namespace`, cluster-scoped names suffixed so parallel runs never collide. */
function isolated(objects: readonly KubeObject[], namespace: string): KubeObject[] {
  return objects.map((o) => {
    const copy = structuredClone(o);
    if (copy.kind === 'Namespace') copy.metadata.name = namespace;
    else if (copy.metadata.namespace) copy.metadata.namespace = namespace;
    if (copy.kind === 'ClusterRole' || copy.kind === 'ClusterRoleBinding') copy.metadata.name = `${copy.metadata.name}-${namespace}`;
    if (copy.kind === 'ClusterRoleBinding') {
      (copy['roleRef'] as { name: string }).name = copy.metadata.name;
      for (const subject of copy['subjects'] as { namespace: string }[]) subject.namespace = namespace;
    }
    return copy;
  });
}

function authorization(context: string): AuthorizationV1Api {
  kubeEnv();
  const config = new KubeConfig();
  config.loadFromDefault();
  config.setCurrentContext(context);
  return config.makeApiClient(AuthorizationV1Api);
}

async function allowed(api: AuthorizationV1Api, namespace: string, account: string, question: Question, target: string): Promise<boolean> {
  const [resource, subresource] = question.resource.split('/');
  const review = await api.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${namespace}:${account}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
        resourceAttributes: { verb: question.verb, group: question.group, resource, ...(subresource ? { subresource } : {}), ...(question.namespaced === false ? {} : { namespace: target }) },
      },
    },
  });
  return review.status?.allowed === true;
}

const clusters = ['upshift-a', 'upshift-b'] as const;

for (const cluster of clusters) {
  describe(`least privilege of the generated RBAC in ${cluster}`, { timeout: 180_000 }, () => {
    const namespace = `kn-rbac-${unique()}`;
    const target = `${namespace}-target`;
    let objects: KubeObject[] = [];
    before(async () => {
      objects = isolated(await kustomize('knative/rbac'), namespace);
      const applied = await kubectl(['--context', cluster, 'apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
      assert.ok(applied.ok, applied.stderr);
      const created = await kubectl(['--context', cluster, 'create', 'namespace', target]);
      assert.ok(created.ok, created.stderr);
    });
    after(async () => {
      const clusterScoped = objects.filter((o) => o.kind.startsWith('Cluster')).map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}`);
      if (clusterScoped.length > 0) await kubectl(['--context', cluster, 'delete', '--ignore-not-found', ...clusterScoped]);
      await kubectl(['--context', cluster, 'delete', 'namespace', namespace, target, '--wait=false', '--ignore-not-found']);
    });

    for (const fn of deployments) {
      const expected = expectations[fn.name];
      test(`${fn.name}: may do exactly what it needs; no Secrets, no pod creation, no deletes`, async () => {
        assert.ok(expected, `no expectations for ${fn.name}`);
        const api = authorization(cluster);
        for (const question of expected.allowed) {
          assert.equal(await allowed(api, namespace, fn.resourceName, question, target), true, `${fn.name} should ${question.verb} ${question.resource}`);
        }
        for (const question of [...expected.refused, ...refusedToAll]) {
          assert.equal(await allowed(api, namespace, fn.resourceName, question, target), false, `${fn.name} must not ${question.verb} ${question.resource}`);
        }
      });
    }

    test('impersonated: rollout patches a real Deployment in a target namespace but cannot delete it; plan, verify and migrate-shard cannot patch it', async () => {
      const created = await kubectl(['--context', cluster, '-n', target, 'create', 'deployment', 'web', '--image=registry.local/web:1']);
      assert.ok(created.ok, created.stderr);
      const as = (fn: string) => ['--context', cluster, '-n', target, `--as=system:serviceaccount:${namespace}:upshift-${fn}`];
      const patch = ['patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.local/web:2"}]'];
      const patched = await kubectl([...as('rollout'), ...patch]);
      assert.ok(patched.ok, patched.stderr);
      const deleted = await kubectl([...as('rollout'), 'delete', 'deployment', 'web']);
      assert.equal(deleted.ok, false);
      assert.match(deleted.stderr, /forbidden/i);
      for (const fn of ['plan', 'verify', 'migrate-shard']) {
        const attempt = await kubectl([...as(fn), ...patch]);
        assert.equal(attempt.ok, false, `${fn} patched a Deployment`);
        assert.match(attempt.stderr, /forbidden/i);
      }
      const image = await kubectl(['--context', cluster, '-n', target, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
      assert.equal(image.stdout, 'registry.local/web:2');
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
