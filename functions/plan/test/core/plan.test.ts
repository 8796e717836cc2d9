import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicy } from '@upshift/events';
import { buildPlan, gateProblems, migrationStartWave, runTargets } from '../../src/core/plan.ts';

const policy = parsePolicy({
  apiVersion: 'upshift.dev/v1alpha1',
  kind: 'UpgradePolicy',
  metadata: { name: 'shop-2' },
  spec: {
    clusters: [{ name: 'upshift-a', context: 'upshift-a' }, { name: 'upshift-b', context: 'upshift-b' }],
    services: [
      { name: 'web', clusters: ['upshift-a', 'upshift-b'], namespace: 'shop', workload: { kind: 'Deployment', name: 'web' }, container: 'app', image: 'registry.local/shop/web:2.0.0', dependsOn: ['api'] },
      { name: 'api', clusters: ['upshift-a', 'upshift-b'], namespace: 'shop', workload: { kind: 'Deployment', name: 'api' }, container: 'app', image: 'registry.local/shop/api:2.0.0' },
    ],
    migrations: [{ ref: 'orders-currency@1', shards: 'auto' }, { ref: 'customers-profile@1', shards: 8 }],
    strategy: { clusterOrder: ['upshift-b', 'upshift-a'] },
  },
});

test('plan: waves carry targets with their previous images, canary cluster first', () => {
  assert.ok(policy.ok, JSON.stringify(policy));
  const result = buildPlan('run-1', policy.policy, {
    currentImages: new Map([['api@upshift-a', 'registry.local/shop/api:1.0.0'], ['api@upshift-b', 'registry.local/shop/api:1.0.0'], ['web@upshift-a', 'registry.local/shop/web:2.0.0'], ['web@upshift-b', 'registry.local/shop/web:1.0.0']]),
    migrations: new Map([['orders-currency@1', { store: 'postgres', autoShards: 8 }], ['customers-profile@1', { store: 'mongodb', autoShards: 3 }]]),
  });
  assert.ok(result.ok);
  const { plan } = result;
  assert.deepEqual(plan.waves.map((w) => w.targets.map((t) => `${t.service}@${t.cluster}`)), [['api@upshift-b'], ['api@upshift-a'], ['web@upshift-b'], ['web@upshift-a']]);
  assert.equal(plan.waves[0]?.targets[0]?.previousImage, 'registry.local/shop/api:1.0.0');
  assert.deepEqual(plan.migrations.map((m) => [m.ref, m.store, m.shards]), [['orders-currency@1', 'postgres', 8], ['customers-profile@1', 'mongodb', 8]]);
  assert.deepEqual(runTargets(plan).map((t) => t.target), [
    'upshift-b/shop/Deployment/api', 'upshift-a/shop/Deployment/api', 'upshift-b/shop/Deployment/web', 'upshift-a/shop/Deployment/web',
    'orders-currency', 'customers-profile',
  ]);
});

test('plan: a target whose current image was not observed is refused, not guessed', () => {
  assert.ok(policy.ok);
  const result = buildPlan('run-1', policy.policy, { currentImages: new Map(), migrations: new Map() });
  assert.deepEqual(result, { ok: false, message: 'no current image was observed for api in cluster upshift-b' });
});

test('plan: gates become the 0-based waves that wait for a promote; a gate beyond the last wave is refused with its path', () => {
  assert.ok(policy.ok);
  const facts = {
    currentImages: new Map([['api@upshift-a', 'i:1'], ['api@upshift-b', 'i:1'], ['web@upshift-a', 'i:1'], ['web@upshift-b', 'i:1']]),
    migrations: new Map<string, { store: 'postgres' | 'mongodb'; autoShards: number }>(),
  };
  const gated = (beforeWave: number[]) => ({ ...policy.policy, spec: { ...policy.policy.spec, strategy: { ...policy.policy.spec.strategy, gates: beforeWave.map((n) => ({ beforeWave: n })) } } });
  const result = buildPlan('run-1', gated([4, 2, 2]), facts);
  assert.ok(result.ok);
  assert.deepEqual(result.plan.strategy.gateWaves, [1, 3]);
  assert.equal('gates' in result.plan.strategy, false);
  const none = buildPlan('run-1', policy.policy, facts);
  assert.ok(none.ok);
  assert.equal(none.plan.strategy.gateWaves, undefined);
  const beyond = buildPlan('run-1', gated([2, 5]), facts);
  assert.equal(beyond.ok, false);
  assert.deepEqual(!beyond.ok && beyond.problems?.map((p) => p.path), ['spec.strategy.gates[1].beforeWave']);
  assert.deepEqual(gateProblems([{ beforeWave: 4 }], 4), []);
});

const waves = [['api@upshift-b'], ['api@upshift-a', 'db@upshift-a'], ['web@upshift-b'], ['web@upshift-a']]
  .map((wave) => wave.map((item) => ({ service: item.split('@')[0] ?? '' })));

const starts: Array<{ name: string; after: string[]; expected: number }> = [
  { name: 'no after: after the last wave', after: [], expected: 3 },
  { name: 'after a service rolled out in two clusters: after its last cluster\'s wave', after: ['api'], expected: 1 },
  { name: 'after several services: after the latest of them', after: ['api', 'web'], expected: 3 },
  { name: 'after a service in one cluster only: after that wave', after: ['db'], expected: 1 },
  { name: 'after a service that is in no wave: after the last wave', after: ['ghost'], expected: 3 },
];

for (const c of starts) {
  test(`migration start: ${c.name}`, () => assert.equal(migrationStartWave(waves, c.after), c.expected));
}

test('migration start: a run without waves starts its migrations after wave 0', () => {
  assert.equal(migrationStartWave([], ['api']), 0);
});

test('plan: each migration carries the wave after which it starts (its `after:` services rolled out everywhere)', () => {
  assert.ok(policy.ok);
  const withAfter = { ...policy.policy, spec: { ...policy.policy.spec, migrations: [
    { ref: 'orders-currency@1', shards: 2, batchSize: 10, backup: true, after: ['api'] },
    { ref: 'customers-profile@1', shards: 8, batchSize: 10, backup: true, after: [] },
  ] } };
  const result = buildPlan('run-1', withAfter, {
    currentImages: new Map(['api@upshift-a', 'api@upshift-b', 'web@upshift-a', 'web@upshift-b'].map((k) => [k, 'registry.local/shop/x:1.0.0'])),
    migrations: new Map([['orders-currency@1', { store: 'postgres', autoShards: 8 }], ['customers-profile@1', { store: 'mongodb', autoShards: 3 }]]),
  });
  assert.ok(result.ok);
  assert.deepEqual(result.plan.migrations.map((m) => [m.ref, m.afterWave]), [['orders-currency@1', 1], ['customers-profile@1', 3]]);
});
