/**
 * The checked-in manifests are what the generator makes from the catalogue, route each function
 * exactly its catalogue topics (KafkaSource and func.yaml alike), and build with kustomize into
 * objects whose references all resolve — in the base and in the example overlay.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { DEAD_LETTER_TOPIC, entryForType, routesFor, topics } from '@upshift/events/contract';
import { renderAll, staleFiles } from '../src/render.ts';
import { deployments, NAMESPACE } from '../src/spec.ts';
import { kustomize, ofKind, repoRoot } from './support/kubectl.ts';
import type { KubeObject } from './support/kubectl.ts';

interface FuncYaml { deploy: { subscriptions: { source: string; filters: { type: string } }[] } }
interface SourceSpec { topics: string[]; sink: { ref: { name: string } }; delivery: { deadLetterSink?: { ref: { kind: string; name: string } } } }

const specOf = <T>(o: KubeObject): T => o['spec'] as T;

test('the checked-in manifests and func.yaml files are what `npm run knative:generate` writes', () => {
  const stale = staleFiles(repoRoot, renderAll(repoRoot));
  assert.deepEqual(stale, [], `out of date; run npm run knative:generate:\n${stale.join('\n')}`);
});

describe('routing follows the catalogue', async () => {
  const built = await kustomize('knative/base');
  for (const fn of deployments) {
    test(`${fn.name}: KafkaSource topics = routesFor(${fn.name}).topics = topics of its func.yaml subscriptions`, () => {
      const source = ofKind(built, 'KafkaSource').find((o) => o.metadata.name === fn.resourceName);
      assert.ok(source, `no KafkaSource ${fn.resourceName}`);
      const sourceTopics = [...specOf<SourceSpec>(source).topics].sort();
      assert.deepEqual(sourceTopics, [...routesFor(fn.name).topics].sort());
      const func = parse(readFileSync(join(repoRoot, `functions/${fn.name}/func.yaml`), 'utf8')) as FuncYaml;
      const types = func.deploy.subscriptions.map((s) => s.filters.type);
      assert.deepEqual([...types].sort(), [...routesFor(fn.name).types].sort(), 'func.yaml subscribes to exactly the types routed to it');
      const subscribedTopics = [...new Set(types.map((type) => entryForType(type)?.topic))].sort();
      assert.deepEqual(subscribedTopics, sourceTopics);
    });
  }

  test('migrate-shard scales out to one pod per partition of its topic, one shard at a time', () => {
    const ksvc = ofKind(built, 'Service').find((o) => o.metadata.name === 'upshift-migrate-shard');
    const template = specOf<{ template: { metadata: { annotations: Record<string, string> }; spec: { containerConcurrency: number } } }>(ksvc!).template;
    const partitions = topics.find((t) => t.topic === 'upshift.migrate-shard')?.partitions;
    assert.equal(template.metadata.annotations['autoscaling.knative.dev/max-scale'], String(partitions));
    assert.equal(template.spec.containerConcurrency, 1);
  });

  test('every KafkaSource delivers its partitions in order: a key\'s records never overtake one another (Knative has no per-key order)', () => {
    const sources = ofKind(built, 'KafkaSource');
    assert.ok(sources.length > 0);
    for (const source of sources) assert.equal(specOf<{ ordering?: string }>(source).ordering, 'ordered', source.metadata.name);
  });
});

/** Every name a Knative Service or KafkaSource refers to exists in the same build. */
function assertReferencesResolve(built: readonly KubeObject[]): void {
  const names = (kind: string): Set<string> => new Set(ofKind(built, kind).map((o) => o.metadata.name));
  const configMaps = names('ConfigMap');
  const accounts = names('ServiceAccount');
  for (const ksvc of ofKind(built, 'Service')) {
    const spec = specOf<{ template: { spec: { serviceAccountName: string; volumes?: { configMap?: { name: string } }[]; containers: { envFrom: { configMapRef?: { name: string } }[] }[] } } }>(ksvc).template.spec;
    assert.ok(accounts.has(spec.serviceAccountName), `${ksvc.metadata.name}: ServiceAccount ${spec.serviceAccountName}`);
    for (const volume of spec.volumes ?? []) if (volume.configMap) assert.ok(configMaps.has(volume.configMap.name), `${ksvc.metadata.name}: ConfigMap ${volume.configMap.name}`);
    for (const from of spec.containers[0]?.envFrom ?? []) if (from.configMapRef) assert.ok(configMaps.has(from.configMapRef.name), `${ksvc.metadata.name}: ConfigMap ${from.configMapRef.name}`);
  }
  for (const source of ofKind(built, 'KafkaSource')) {
    const spec = specOf<SourceSpec>(source);
    assert.ok(names('Service').has(spec.sink.ref.name), `${source.metadata.name}: sink ${spec.sink.ref.name}`);
    if (spec.topics.includes(DEAD_LETTER_TOPIC)) {
      // The source of the dead-letter topic (to verify) has no dead-letter sink: nothing loops.
      assert.deepEqual([spec.topics, spec.sink.ref.name, spec.delivery.deadLetterSink], [[DEAD_LETTER_TOPIC], 'upshift-verify', undefined], `${source.metadata.name}: dead letters back to verify`);
      continue;
    }
    assert.ok(spec.delivery.deadLetterSink && names(spec.delivery.deadLetterSink.ref.kind).has(spec.delivery.deadLetterSink.ref.name), `${source.metadata.name}: dead-letter sink`);
  }
}

/** Every ServiceAccount subject of a binding is a ServiceAccount of the build, in its namespace. */
function assertBindingsMatchAccounts(built: readonly KubeObject[], namespace: string): void {
  const accounts = ofKind(built, 'ServiceAccount');
  for (const binding of [...ofKind(built, 'ClusterRoleBinding'), ...ofKind(built, 'RoleBinding')]) {
    for (const subject of binding['subjects'] as { name: string; namespace: string }[]) {
      assert.ok(accounts.some((a) => a.metadata.name === subject.name && a.metadata.namespace === subject.namespace), `${binding.metadata.name}: ${subject.namespace}/${subject.name}`);
      assert.equal(subject.namespace, namespace);
    }
  }
}

test('the base builds with every reference resolved (hashed ConfigMaps, accounts, sinks); it grants no Kubernetes rights', async () => {
  const built = await kustomize('knative/base');
  assertReferencesResolve(built);
  assert.equal(ofKind(built, 'Service').length, deployments.length);
  assert.deepEqual(built.filter((o) => o.apiVersion.startsWith('rbac.authorization.k8s.io/')), [], 'RBAC lives in knative/rbac (target clusters)');
});

test('the RBAC of a target cluster binds exactly its own ServiceAccounts, in the install namespace', async () => {
  const built = await kustomize('knative/rbac');
  assertBindingsMatchAccounts(built, NAMESPACE);
  assert.deepEqual(ofKind(built, 'ServiceAccount').map((o) => o.metadata.name).sort(), deployments.map((fn) => fn.resourceName).sort());
});

test('the example overlay moves everything to its namespace and sets images, brokers and tracing', async () => {
  const built = await kustomize('knative/overlays/example');
  assertReferencesResolve(built);
  assert.ok(ofKind(built, 'ServiceAccount').length === deployments.length && built.filter((o) => o.metadata.namespace).every((o) => o.metadata.namespace === 'upshift-staging'));
  for (const ksvc of ofKind(built, 'Service')) {
    const image = specOf<{ template: { spec: { containers: { image: string }[] } } }>(ksvc).template.spec.containers[0]?.image;
    assert.match(image ?? '', /^registry\.example\.com\/upshift\/[a-z-]+:0\.1\.0$/, ksvc.metadata.name);
  }
  for (const o of [...ofKind(built, 'KafkaSource'), ...ofKind(built, 'KafkaSink')]) {
    assert.deepEqual(specOf<{ bootstrapServers: string[] }>(o).bootstrapServers, ['staging-kafka-bootstrap.kafka:9092']);
  }
  const config = ofKind(built, 'ConfigMap').find((o) => o.metadata.name.startsWith('upshift-config-'));
  assert.equal((config?.['data'] as Record<string, string>)['OTEL_EXPORTER_OTLP_ENDPOINT'], 'http://jaeger-collector.observability:4318');
});
