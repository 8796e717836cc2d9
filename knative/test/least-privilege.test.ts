/**
 * What the built manifests give each function, checked object by object: plan's namespace list is the
 * install's, plan and verify hold read-only store URLs and only migrate-shard the read-write ones, every
 * Kafka client (KafkaSources, dead-letter KafkaSink, the functions) authenticates from the same Secret,
 * and the NetworkPolicy admits only the Knative data plane to every function pod. The install settings
 * reject a bad file naming the field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseInstallSettings, loadInstallSettings } from '../src/install.ts';
import { KAFKA_AUTH_KEYS, KAFKA_CA_FILE } from '../src/kafka-auth.ts';
import { deploymentOf, deployments, KAFKA_AUTH_SECRET, READ_ONLY_SUFFIX, STORE_CONNECTIONS_SECRET } from '../src/spec.ts';
import { kustomize, ofKind, repoRoot } from './support/kubectl.ts';
import type { KubeObject } from './support/kubectl.ts';

interface SecretKeyRef { name: string; key: string; optional?: boolean }
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: SecretKeyRef } }
interface Container { env: EnvVar[]; envFrom: { configMapRef?: unknown; secretRef?: unknown }[]; volumeMounts?: { name: string; mountPath: string }[] }
interface PodTemplate { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[] } }

const settings = loadInstallSettings(repoRoot);
const built = await kustomize('knative/base');

function templateOf(fn: string): PodTemplate {
  const ksvc = ofKind(built, 'Service').find((o) => o.metadata.name === deploymentOf(fn as never).resourceName);
  assert.ok(ksvc, `no Knative Service for ${fn}`);
  return (ksvc['spec'] as { template: PodTemplate }).template;
}
const containerOf = (fn: string): Container => templateOf(fn).spec.containers[0] ?? assert.fail(`${fn} has no container`);
const envOf = (fn: string, name: string): EnvVar | undefined => containerOf(fn).env.find((e) => e.name === name);
const refsTo = (fn: string, secret: string): SecretKeyRef[] =>
  containerOf(fn).env.flatMap((e) => (e.valueFrom?.secretKeyRef?.name === secret ? [e.valueFrom.secretKeyRef] : []));

describe('install settings', () => {
  test('knative/install.yaml lists the namespaces and fills in the defaults', () => {
    assert.ok(settings.targetNamespaces.length > 0);
    assert.deepEqual(parseInstallSettings('targetNamespaces: [shop]'), {
      targetNamespaces: ['shop'],
      dataPlane: { eventingNamespace: 'knative-eventing', servingNamespace: 'knative-serving', ingressNamespace: 'kourier-system' },
      kafka: { sasl: true, tls: true, caCert: true },
    });
  });

  const refused: readonly [string, RegExp][] = [
    ['targetNamespaces: []', /targetNamespaces: name at least one namespace/],
    ['{}', /targetNamespaces: /],
    ['targetNamespaces: [shop, Shop_2]', /targetNamespaces\.1: must be a DNS-1123 label/],
    ['targetNamespaces: [shop, shop]', /targetNamespaces: names a namespace twice/],
    ['targetNamespaces: [shop]\nkafka: { tls: false }', /kafka\.caCert: caCert needs tls: true/],
    ['targetNamespaces: [shop]\nnamespaces: [payments]', /Unrecognized key/],
  ];
  for (const [text, message] of refused) {
    test(`refuses ${JSON.stringify(text)} naming the field`, () => {
      assert.throws(() => parseInstallSettings(text), (error: Error) => message.test(error.message) && error.message.startsWith('knative/install.yaml: '));
    });
  }
});

test('plan gets the install\'s namespaces as UPSHIFT_NAMESPACES; no other function needs them', () => {
  assert.equal(envOf('plan', 'UPSHIFT_NAMESPACES')?.value, settings.targetNamespaces.join(','));
  for (const fn of deployments.filter((d) => d.name !== 'plan')) assert.equal(envOf(fn.name, 'UPSHIFT_NAMESPACES'), undefined, fn.name);
});

test('plan and verify read the stores with read-only URLs; only migrate-shard gets read-write ones; rollout none', () => {
  const connections = refsTo('migrate-shard', STORE_CONNECTIONS_SECRET);
  assert.ok(connections.length > 0, 'the example catalog names connections');
  for (const fn of deployments) {
    assert.ok(containerOf(fn.name).envFrom.every((from) => !from.secretRef), `${fn.name} takes a whole Secret into its env`);
    const keys = refsTo(fn.name, STORE_CONNECTIONS_SECRET).map((ref) => ref.key).sort();
    const variables = containerOf(fn.name).env.filter((e) => e.valueFrom?.secretKeyRef?.name === STORE_CONNECTIONS_SECRET).map((e) => e.name).sort();
    if (fn.storeAccess === 'none') assert.deepEqual(keys, [], fn.name);
    else if (fn.storeAccess === 'read-only') assert.deepEqual(keys, variables.map((name) => `${name}${READ_ONLY_SUFFIX}`), `${fn.name} gets only read-only keys`);
    else assert.deepEqual(keys, variables, `${fn.name} gets the read-write keys under their own names`);
  }
  assert.deepEqual(['plan', 'verify', 'migrate-shard', 'rollout'].map((fn) => deploymentOf(fn as never).storeAccess), ['read-only', 'read-only', 'read-write', 'none']);
});

test('every Kafka client authenticates from upshift-kafka-auth as install.yaml says', () => {
  assert.ok(settings.kafka.sasl && settings.kafka.tls && settings.kafka.caCert, 'this test covers the default install (SASL over TLS with a private CA)');
  const ref = (key: string) => ({ secretKeyRef: { name: KAFKA_AUTH_SECRET, key } });
  for (const source of ofKind(built, 'KafkaSource')) {
    assert.deepEqual((source['spec'] as { net?: unknown }).net, {
      sasl: { enable: true, user: ref(KAFKA_AUTH_KEYS.user), password: ref(KAFKA_AUTH_KEYS.password), type: ref(KAFKA_AUTH_KEYS.mechanism) },
      tls: { enable: true, caCert: ref(KAFKA_AUTH_KEYS.caCert) },
    }, source.metadata.name);
  }
  for (const sink of ofKind(built, 'KafkaSink')) assert.deepEqual((sink['spec'] as { auth?: unknown }).auth, { secret: { ref: { name: KAFKA_AUTH_SECRET } } });
  for (const fn of deployments) {
    const sasl = Object.fromEntries(containerOf(fn.name).env.filter((e) => e.name.startsWith('KAFKA_SASL_')).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    assert.deepEqual(sasl, {
      KAFKA_SASL_MECHANISM: { name: KAFKA_AUTH_SECRET, key: KAFKA_AUTH_KEYS.mechanism, optional: true },
      KAFKA_SASL_USERNAME: { name: KAFKA_AUTH_SECRET, key: KAFKA_AUTH_KEYS.user, optional: true },
      KAFKA_SASL_PASSWORD: { name: KAFKA_AUTH_SECRET, key: KAFKA_AUTH_KEYS.password, optional: true },
    }, fn.name);
    assert.equal(envOf(fn.name, 'KAFKA_TLS')?.value, 'true');
    assert.equal(envOf(fn.name, 'KAFKA_TLS_CA_FILE')?.value, KAFKA_CA_FILE);
    const template = templateOf(fn.name);
    const mount = containerOf(fn.name).volumeMounts?.find((m) => KAFKA_CA_FILE.startsWith(`${m.mountPath}/`));
    const volume = template.spec.volumes?.find((v) => v.name === mount?.name);
    assert.deepEqual(volume?.secret?.items, [{ key: KAFKA_AUTH_KEYS.caCert, path: KAFKA_AUTH_KEYS.caCert }], `${fn.name} mounts only ca.crt of the Secret`);
    assert.equal(volume?.secret?.secretName, KAFKA_AUTH_SECRET);
  }
});

test('the NetworkPolicy selects every function pod and admits only the Knative data plane', () => {
  const [policy, ...others] = ofKind(built, 'NetworkPolicy');
  assert.ok(policy);
  assert.deepEqual(others, []);
  const spec = policy['spec'] as {
    podSelector: { matchLabels: Record<string, string> }; policyTypes: string[];
    ingress: { from: { namespaceSelector: { matchLabels: Record<string, string> }; podSelector?: unknown }[]; ports?: unknown }[];
  };
  for (const fn of deployments) {
    const labels = templateOf(fn.name).metadata.labels;
    assert.ok(Object.entries(spec.podSelector.matchLabels).every(([key, value]) => labels[key] === value), `${fn.name}'s pods are selected`);
  }
  assert.deepEqual(spec.policyTypes, ['Ingress']);
  assert.equal(spec.ingress.length, 1, 'one rule: any other rule would admit more');
  const peers = spec.ingress[0]?.from ?? [];
  const { eventingNamespace, servingNamespace, ingressNamespace } = settings.dataPlane;
  assert.deepEqual(peers.map((peer) => peer.namespaceSelector.matchLabels), [eventingNamespace, servingNamespace, ingressNamespace].map((name) => ({ 'kubernetes.io/metadata.name': name })));
  assert.deepEqual(peers[0]?.podSelector, { matchLabels: { app: 'kafka-source-dispatcher' } }, 'in the eventing namespace, only the KafkaSource dispatchers');
  assert.ok(peers.slice(0, 2).every((peer) => peer.podSelector !== undefined), 'eventing and serving peers are narrowed to their pods');
});

function byKind(objects: readonly KubeObject[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of objects) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  return counts;
}

test('the base holds only what the functions\' own cluster needs', () => {
  assert.deepEqual(byKind(built), { Namespace: 1, ServiceAccount: 4, ConfigMap: 2, Service: 4, KafkaSource: 5, KafkaSink: 1, NetworkPolicy: 1 });
});
