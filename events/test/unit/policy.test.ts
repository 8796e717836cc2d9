import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { findCycle, parsePolicy, parsePolicyYaml } from '../../src/index.ts';

const exampleText = readFileSync(new URL('../../../examples/policy.yaml', import.meta.url), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only: mutate the parsed YAML freely
type Doc = Record<string, any>;
const example = (): Doc => parse(exampleText) as Doc;

test('the example policy is valid and gets defaults', () => {
  const result = parsePolicyYaml(exampleText);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.equal(result.policy.spec.services.length, 3);
  assert.deepEqual(result.policy.spec.services[0]?.dependsOn, []);
  assert.deepEqual(result.policy.spec.strategy.clusterOrder, ['upshift-a', 'upshift-b']);
});

test('minimal policy gets documented defaults', () => {
  const doc = example();
  delete doc.spec.migrations; delete doc.spec.strategy; delete doc.spec.verification; delete doc.spec.dryRun;
  const result = parsePolicy(doc);
  assert.ok(result.ok);
  assert.equal(result.policy.spec.strategy.failurePolicy, 'rollback');
  assert.equal(result.policy.spec.dryRun, false);
  assert.equal(result.policy.spec.verification.checks.length, 3);
});

test('strategy.gates are optional and kept as written (1-based waves)', () => {
  const doc = example();
  doc.spec.strategy.gates = [{ beforeWave: 2 }];
  const result = parsePolicy(doc);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.deepEqual(result.policy.spec.strategy.gates, [{ beforeWave: 2 }]);
  const plain = parsePolicyYaml(exampleText);
  assert.ok(plain.ok);
  assert.equal(plain.policy.spec.strategy.gates, undefined);
});

/** [description, mutation, expected path, message fragment]. */
const invalid: [string, (d: Doc) => void, string, RegExp][] = [
  ['missing apiVersion', (d) => delete d.apiVersion, 'apiVersion', /expected/i],
  ['wrong apiVersion', (d) => (d.apiVersion = 'upshift.dev/v1'), 'apiVersion', /upshift\.dev\/v1alpha1/],
  ['wrong kind', (d) => (d.kind = 'Deployment'), 'kind', /UpgradePolicy/],
  ['missing metadata.name', (d) => delete d.metadata.name, 'metadata.name', /expected string/],
  ['uppercase metadata.name', (d) => (d.metadata.name = 'Shop'), 'metadata.name', /DNS-1123/],
  ['missing spec', (d) => delete d.spec, 'spec', /expected object/],
  ['no clusters', (d) => (d.spec.clusters = []), 'spec.clusters', /at least one cluster/],
  ['cluster with context and secretRef', (d) => (d.spec.clusters[1].secretRef = { name: 'kc', key: 'config' }), 'spec.clusters[1].context', /exactly one/],
  ['cluster with neither context nor secretRef', (d) => delete d.spec.clusters[0].context, 'spec.clusters[0].context', /exactly one/],
  ['cluster name with underscore', (d) => (d.spec.clusters[0].name = 'upshift_a'), 'spec.clusters[0].name', /DNS-1123/],
  ['duplicate cluster', (d) => (d.spec.clusters[1].name = 'upshift-a'), 'spec.clusters[1].name', /duplicate cluster name/],
  ['no services', (d) => (d.spec.services = []), 'spec.services', /at least one service/],
  ['service missing image', (d) => delete d.spec.services[0].image, 'spec.services[0].image', /expected string/],
  ['namespace ../x', (d) => (d.spec.services[1].namespace = '../x'), 'spec.services[1].namespace', /DNS-1123/],
  ['namespace too long', (d) => (d.spec.services[0].namespace = 'a'.repeat(64)), 'spec.services[0].namespace', /63/],
  ['image with a newline', (d) => (d.spec.services[2].image = 'registry.local/shop/storefront:5.4.2\nrm -rf /'), 'spec.services[2].image', /image reference/],
  ['image without tag', (d) => (d.spec.services[0].image = 'registry.local/shop/customers'), 'spec.services[0].image', /image reference/],
  ['image with bad digest', (d) => (d.spec.services[0].image = 'shop/customers@sha256:xyz'), 'spec.services[0].image', /image reference/],
  ['workload kind DaemonSet', (d) => (d.spec.services[0].workload.kind = 'DaemonSet'), 'spec.services[0].workload.kind', /Deployment/],
  ['unknown service cluster', (d) => (d.spec.services[1].clusters = ['upshift-a', 'upshift-c']), 'spec.services[1].clusters[1]', /unknown cluster "upshift-c"/],
  ['dependsOn unknown service', (d) => (d.spec.services[1].dependsOn = ['payments']), 'spec.services[1].dependsOn[0]', /unknown service "payments"/],
  ['dependency cycle', (d) => (d.spec.services[0].dependsOn = ['storefront']), 'spec.services[0].dependsOn', /dependency cycle: customers -> storefront -> (orders -> )?customers/],
  ['self dependency', (d) => (d.spec.services[0].dependsOn = ['customers']), 'spec.services[0].dependsOn[0]', /depends on itself/],
  ['duplicate service', (d) => (d.spec.services[2].name = 'orders'), 'spec.services[2].name', /duplicate service name "orders"/],
  ['migration ref without version', (d) => (d.spec.migrations[0].ref = 'orders-currency'), 'spec.migrations[0].ref', /name@version/],
  ['migration ref with SQL', (d) => (d.spec.migrations[0].ref = 'x@1; DROP TABLE orders'), 'spec.migrations[0].ref', /name@version/],
  ['shard count 0', (d) => (d.spec.migrations[0].shards = 0), 'spec.migrations[0].shards', /at least 1/],
  ['shard count "many"', (d) => (d.spec.migrations[1].shards = 'many'), 'spec.migrations[1].shards', /.+/],
  ['batchSize negative', (d) => (d.spec.migrations[0].batchSize = -5), 'spec.migrations[0].batchSize', />=\s*1|too small/i],
  ['migration after unknown service', (d) => (d.spec.migrations[1].after = ['billing']), 'spec.migrations[1].after[0]', /unknown service "billing"/],
  ['SQL smuggled as an extra field', (d) => (d.spec.migrations[0].sql = 'UPDATE orders SET x = 1'), 'spec.migrations[0].sql', /unknown field/],
  ['unknown top-level field', (d) => (d.status = {}), 'status', /unknown field/],
  ['unknown service field', (d) => (d.spec.services[0].replicas = 3), 'spec.services[0].replicas', /unknown field/],
  ['clusterOrder unknown cluster', (d) => (d.spec.strategy.clusterOrder = ['upshift-a', 'upshift-z']), 'spec.strategy.clusterOrder[1]', /unknown cluster "upshift-z"/],
  ['clusterOrder missing a cluster', (d) => (d.spec.strategy.clusterOrder = ['upshift-b']), 'spec.strategy.clusterOrder', /missing "upshift-a"/],
  ['failurePolicy retry', (d) => (d.spec.strategy.failurePolicy = 'retry'), 'spec.strategy.failurePolicy', /rollback|freeze/],
  ['maxParallelServices 0', (d) => (d.spec.strategy.maxParallelServices = 0), 'spec.strategy.maxParallelServices', /.+/],
  ['soakSeconds fractional', (d) => (d.spec.strategy.soakSeconds = 1.5), 'spec.strategy.soakSeconds', /int/i],
  ['a gate before wave 0', (d) => (d.spec.strategy.gates = [{ beforeWave: 0 }]), 'spec.strategy.gates[0].beforeWave', />=\s*1|too small/i],
  ['a gate without its wave', (d) => (d.spec.strategy.gates = [{ beforeWave: 2 }, { wave: 2 }]), 'spec.strategy.gates[1].beforeWave', /expected number/],
  ['too many gates', (d) => (d.spec.strategy.gates = Array.from({ length: 65 }, () => ({ beforeWave: 2 }))), 'spec.strategy.gates', /at most 64 gates/],
  ['unknown check kind', (d) => (d.spec.verification.checks[0].kind = 'script'), 'spec.verification.checks[0].kind', /workloadsAvailable/],
  ['service clusters as a string', (d) => (d.spec.services[0].clusters = 'upshift-a'), 'spec.services[0].clusters', /expected array/],
  ['a null service', (d) => (d.spec.services[1] = null), 'spec.services[1]', /expected object/],
  ['dryRun as string', (d) => (d.spec.dryRun = 'yes'), 'spec.dryRun', /boolean/],
];

test('there are at least 30 invalid policy cases', () => assert.ok(invalid.length >= 30));

for (const [description, mutate, path, message] of invalid) {
  test(`rejects a policy with ${description} at ${path}`, () => {
    const doc = example();
    mutate(doc);
    const result = parsePolicy(doc);
    assert.equal(result.ok, false, 'expected the policy to be invalid');
    if (result.ok) return;
    const match = result.problems.find((p) => p.path === path);
    assert.ok(match, `no problem at ${path}; got ${JSON.stringify(result.problems)}`);
    assert.match(match.message, message);
  });
}

test('non-object inputs are problems, not exceptions', () => {
  for (const value of [null, undefined, 42, 'policy', [], { spec: 'x' }, { spec: { services: 'x', clusters: 3 } }]) {
    const result = parsePolicy(value);
    assert.equal(result.ok, false);
  }
});

test('YAML syntax errors, duplicate keys and multiple documents are reported', () => {
  for (const text of ['spec: [1', 'a: 1\na: 2\n', 'a: 1\n---\nb: 2\n', '']) {
    const result = parsePolicyYaml(text);
    assert.equal(result.ok, false, text);
  }
});

test('findCycle names the cycle and ignores unknown nodes', () => {
  assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', ['b', 'zzz']], ['b', []]])), undefined);
});
