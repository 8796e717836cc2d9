/**
 * Every manifest passes the real API servers' validation (`kubectl apply --dry-run=server`, CRD schemas
 * of Knative Serving, Eventing and the Kafka extension) in both stack clusters, and a deliberately
 * broken copy is rejected with the field named. The namespace is created for real (dry-run objects
 * must have one) under a unique name and deleted afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { deadLetterSink, kafkaSource } from '../src/eventing.ts';
import { deployments, NAMESPACE } from '../src/spec.ts';
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

    test('the functions\' NetworkPolicy is accepted; one with an unknown selector operator is rejected naming the field', async () => {
      const policies = (built.get('knative/base') ?? []).filter((o) => o.kind === 'NetworkPolicy');
      assert.deepEqual(policies.map((o) => o.metadata.name), ['upshift-functions-ingress']);
      const accepted = await dryRun(cluster, policies);
      assert.ok(accepted.ok, accepted.stderr);
      const bad = broken(policies, 'NetworkPolicy', (o) => {
        const from = (o['spec'] as { ingress: { from: { podSelector?: { matchExpressions?: { operator: string }[] } }[] }[] }).ingress[0]?.from ?? [];
        const expression = from.flatMap((peer) => peer.podSelector?.matchExpressions ?? [])[0];
        assert.ok(expression, 'the policy selects Knative Serving pods by expression');
        expression.operator = 'Within';
      });
      const result = await dryRun(cluster, [bad]);
      assert.equal(result.ok, false);
      assert.match(result.stderr, /spec\.ingress\[0\]\.from\[1\]\.podSelector\.matchExpressions\[0\]\.operator/);
    });

    test('a KafkaSource whose SASL user names no Secret key is rejected naming spec.net.sasl.user.secretKeyRef.key', async () => {
      const bad = broken(built.get('knative/base') ?? [], 'KafkaSource', (o) => {
        const net = (o['spec'] as { net?: { sasl?: { user?: { secretKeyRef: Record<string, unknown> } } } }).net;
        assert.ok(net?.sasl?.user, 'the base KafkaSources authenticate with SASL');
        delete net.sasl.user.secretKeyRef['key'];
      });
      const result = await dryRun(cluster, [bad]);
      assert.equal(result.ok, false);
      assert.match(result.stderr, /spec\.net\.sasl\.user\.secretKeyRef\.key/);
    });

    test('a plaintext install (kafka: sasl and tls off) renders KafkaSources and a KafkaSink that are accepted too', async () => {
      const plaintext = { sasl: false, tls: false, caCert: false };
      const objects = [...deployments.map((fn) => kafkaSource(fn, plaintext)), deadLetterSink(plaintext)]
        .map((o) => ({ ...o, metadata: { ...o.metadata, name: `plain-${o.metadata.name}`, namespace } }));
      assert.ok(objects.every((o) => !('net' in o.spec) && !('auth' in o.spec)));
      const result = await dryRun(cluster, objects as KubeObject[]);
      assert.ok(result.ok, result.stderr);
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
