/**
 * Every manifest passes the real API servers' validation (`kubectl apply --dry-run=server`, CRD schemas
 * of Knative Serving, Eventing and the Kafka extension) in both stack clusters, and a deliberately
 * broken copy is rejected with the field named. The namespace is created for real (dry-run objects
 * must have one) under a unique name and deleted afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { NAMESPACE } from '../src/spec.ts';
import { kubectl, kustomize, unique } from './support/kubectl.ts';
import type { KubeObject } from './support/kubectl.ts';

const clusters = ['upshift-a', 'upshift-b'] as const;

/** Moves namespaced objects (and the Namespace itself) to `namespace`. */
function intoNamespace(objects: readonly KubeObject[], namespace: string): KubeObject[] {
  return objects.map((o) => {
    const copy = structuredClone(o);
    if (copy.kind === 'Namespace') copy.metadata.name = namespace;
    else if (copy.metadata.namespace) copy.metadata.namespace = namespace;
    if (copy.kind === 'ClusterRoleBinding') for (const s of copy['subjects'] as { namespace?: string }[]) s.namespace = namespace;
    return copy;
  });
}

/** Server-side dry-run of `objects` in `cluster`. */
function dryRun(cluster: string, objects: readonly KubeObject[]) {
  const text = objects.map((o) => stringify(o)).join('---\n');
  return kubectl(['--context', cluster, 'apply', '--dry-run=server', '-o', 'name', '-f', '-'], text);
}

/** One object of `objects`, changed by `edit` (a deep copy). */
function broken(objects: readonly KubeObject[], kind: string, edit: (o: KubeObject) => void): KubeObject {
  const found = objects.find((o) => o.kind === kind);
  assert.ok(found, `no ${kind} to break`);
  const copy = structuredClone(found);
  edit(copy);
  return copy;
}

const trees = ['knative/base', 'knative/overlays/example', 'knative/func-broker'] as const;

for (const cluster of clusters) {
  describe(`server-side dry-run in ${cluster}`, { timeout: 180_000 }, () => {
    const namespace = `kn-dry-${unique()}`;
    const built = new Map<string, KubeObject[]>();
    before(async () => {
      const created = await kubectl(['--context', cluster, 'create', 'namespace', namespace]);
      assert.ok(created.ok, created.stderr);
      for (const tree of trees) built.set(tree, intoNamespace(await kustomize(tree), namespace));
    });
    after(async () => {
      await kubectl(['--context', cluster, 'delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    });

    for (const tree of trees) {
      test(`every object of ${tree} is accepted`, async () => {
        const objects = built.get(tree) ?? [];
        const result = await dryRun(cluster, objects);
        assert.ok(result.ok, result.stderr);
        const accepted = result.stdout.trim().split('\n').filter(Boolean);
        assert.equal(accepted.length, objects.length, result.stdout);
      });
    }

    test('a KafkaSource whose topics is not a list is rejected naming spec.topics', async () => {
      const bad = broken(built.get('knative/base') ?? [], 'KafkaSource', (o) => { (o['spec'] as Record<string, unknown>)['topics'] = 'upshift.plan'; });
      const result = await dryRun(cluster, [bad]);
      assert.equal(result.ok, false);
      assert.match(result.stderr, /spec\.topics/);
    });

    test('a KafkaSource without bootstrap servers is rejected naming spec.bootstrapServers', async () => {
      const bad = broken(built.get('knative/base') ?? [], 'KafkaSource', (o) => { delete (o['spec'] as Record<string, unknown>)['bootstrapServers']; });
      const result = await dryRun(cluster, [bad]);
      assert.equal(result.ok, false);
      assert.match(result.stderr, /spec\.bootstrapServers/);
    });

    test('a Knative Service with a non-numeric containerConcurrency is rejected naming the field', async () => {
      const bad = broken(built.get('knative/base') ?? [], 'Service', (o) => {
        ((o['spec'] as { template: { spec: Record<string, unknown> } }).template.spec)['containerConcurrency'] = 'ten';
      });
      const result = await dryRun(cluster, [bad]);
      assert.equal(result.ok, false);
      assert.match(result.stderr, /spec\.template\.spec\.containerConcurrency/);
    });

    test('a KafkaSink with an unknown content mode is rejected naming spec.contentMode', async () => {
      const bad = broken(built.get('knative/base') ?? [], 'KafkaSink', (o) => { (o['spec'] as Record<string, unknown>)['contentMode'] = 'json'; });
      const result = await dryRun(cluster, [bad]);
      assert.equal(result.ok, false);
      assert.match(result.stderr, /spec\.contentMode/);
    });
  });
}

test('the base targets its own namespace', async () => {
  const built = await kustomize('knative/base');
  assert.ok(built.filter((o) => o.metadata.namespace).every((o) => o.metadata.namespace === NAMESPACE));
});
