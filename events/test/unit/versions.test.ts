/**
 * Names with several versions (`upgrade.planned`, `migration.requested`: v2 carries migrations of more
 * than 4,096 shards): which version a producer emits, and that both versions decode to the same name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContractViolation, createEvent, decode, decodeKafka, emittedVersion, encodeKafka, entries, fixture, isEventOf, laterVersions, nameOf,
  parsePolicy, policyLimits, routesFor, versionsOf, type EventData, type EventName,
} from '../../src/index.ts';

const runId = '019ab1c2-7d3e-7a41-9b2c-5e8f0a1d2c3b';
const migration = (shards: number) => ({ ref: 'orders-currency@1', store: 'postgres' as const, shards, batchSize: 500, backup: true, afterWave: 0 });
const requested = (...shards: number[]): EventData<'migration.requested'> => ({ runId, migrations: shards.map(migration) });
const planned = (...shards: number[]): EventData<'upgrade.planned'> => ({
  ...fixture('upgrade.planned').data, migrations: shards.map(migration),
} as EventData<'upgrade.planned'>);

test('each name with later versions lists them oldest first, each a type of its own on the same topic and key', () => {
  for (const name of Object.keys(laterVersions) as EventName[]) {
    const versions = versionsOf(name);
    assert.deepEqual(versions.map((v) => v.version), [1, 2], name);
    assert.deepEqual(versions.map((v) => v.type), [`dev.upshift.${name}.v1`, `dev.upshift.${name}.v2`]);
    assert.deepEqual(new Set(versions.map((v) => `${v.topic} ${v.keyField} ${v.consumer}`)).size, 1, name);
    for (const v of versions) assert.ok(entries.includes(v), `${v.type} is in entries (generated docs, snapshot)`);
  }
  assert.deepEqual(versionsOf('shard.requested').map((v) => v.type), ['dev.upshift.shard.requested.v1']);
});

test('migrate-shard consumes both versions of migration.requested (dispatcher, func.yaml triggers)', () => {
  const types = routesFor('migrate-shard').types;
  assert.ok(types.includes('dev.upshift.migration.requested.v1') && types.includes('dev.upshift.migration.requested.v2'), types.join(', '));
});

const versionCases: Array<[string, EventName, unknown, number]> = [
  ['one migration of 1 shard', 'migration.requested', requested(1), 1],
  ['migrations at exactly 4,096 shards', 'migration.requested', requested(4096, 4096), 1],
  ['one migration of 4,097 shards among small ones', 'migration.requested', requested(2, 4097), 2],
  ['one migration of 10,000 shards', 'migration.requested', requested(10_000), 2],
  ['one migration at the bound', 'migration.requested', requested(policyLimits.shardsPerMigration), 2],
  ['a plan without migrations', 'upgrade.planned', planned(), 1],
  ['a plan at 4,096 shards', 'upgrade.planned', planned(4096), 1],
  ['a plan of 10,000 shards', 'upgrade.planned', planned(8, 10_000), 2],
  ['a name with one version', 'shard.requested', fixture('shard.requested').data, 1],
];

for (const [label, name, data, version] of versionCases) {
  test(`emits v${version} for ${label} (${name})`, () => {
    assert.equal(emittedVersion(name, data).entry.version, version);
    const event = createEvent(name, data as never, { producer: 'rollout' });
    assert.equal(event.type, `dev.upshift.${name}.v${version}`);
    assert.equal(event.dataschema, `https://upshift.dev/schemas/dev.upshift.${name}.v${version}.json`);
    assert.ok(isEventOf(event, name));
    assert.equal(nameOf(event), name);
  });
}

test('data no version carries is refused with the newest version\'s bound, naming the field', () => {
  const tooMany = policyLimits.shardsPerMigration + 1;
  assert.throws(() => createEvent('migration.requested', requested(2, tooMany), { producer: 'rollout' }), (error: unknown) => {
    assert.ok(error instanceof ContractViolation);
    assert.equal(error.type, 'dev.upshift.migration.requested.v2');
    assert.equal(error.path, 'data.migrations[1].shards');
    assert.match(error.issues[0]?.message ?? '', /100000/);
    return true;
  });
  assert.throws(() => createEvent('upgrade.planned', planned(0), { producer: 'plan' }), /data\.migrations\[0\]\.shards/);
});

test('both versions decode to the same name and data, over Kafka too', () => {
  const v1 = createEvent('migration.requested', requested(16), { producer: 'rollout' });
  const v2 = createEvent('migration.requested', requested(10_000), { producer: 'rollout' });
  for (const event of [v1, v2]) {
    const back = decodeKafka(encodeKafka(event));
    assert.equal(back.type, event.type);
    assert.ok(isEventOf(back, 'migration.requested') && !isEventOf(back, 'upgrade.planned'));
    assert.deepEqual(back.data, event.data);
  }
  assert.equal(fixture('migration.requested').type, 'dev.upshift.migration.requested.v1', 'the v1 fixture still decodes');
});

test('a v2 event of a small migration is accepted (another producer may always emit v2); a v1 event over 4,096 is not', () => {
  const raw = JSON.parse(JSON.stringify(fixture('upgrade.planned'))) as { type: string; dataschema: string; data: { migrations: unknown[] } };
  const v2 = { ...raw, type: 'dev.upshift.upgrade.planned.v2', dataschema: 'https://upshift.dev/schemas/dev.upshift.upgrade.planned.v2.json' };
  assert.ok(isEventOf(decode(v2), 'upgrade.planned'));
  const bigV1 = { ...raw, data: { ...raw.data, migrations: [migration(4097)] } };
  assert.throws(() => decode(bigV1), (error: unknown) => error instanceof ContractViolation
    && error.type === 'dev.upshift.upgrade.planned.v1' && error.path === 'data.migrations[0].shards');
  assert.ok(isEventOf(decode({ ...bigV1, type: v2.type, dataschema: v2.dataschema }), 'upgrade.planned'));
});

const policy = (...shards: Array<number | 'auto'>) => ({
  apiVersion: 'upshift.dev/v1alpha1', kind: 'UpgradePolicy', metadata: { name: 'big' },
  spec: {
    clusters: [{ name: 'east', context: 'kind-east' }],
    services: [{ name: 'orders', clusters: ['east'], namespace: 'shop', workload: { kind: 'Deployment', name: 'orders' }, container: 'orders', image: 'registry.local/orders:2.0.0' }],
    migrations: shards.map((count, i) => ({ ref: `backfill-${i}@1`, shards: count })),
  },
});
const problemsOf = (value: unknown) => {
  const result = parsePolicy(value);
  return result.ok ? [] : result.problems.map((p) => [p.path, p.message]);
};

test('a policy may ask for up to 100,000 shards in one migration, and no more, saying so', () => {
  for (const shards of [4097, 10_000, policyLimits.shardsPerMigration]) assert.deepEqual(problemsOf(policy(shards)), [], `${shards} shards`);
  assert.deepEqual(problemsOf(policy(policyLimits.shardsPerMigration + 1)), [['spec.migrations[0].shards', `must be at most ${policyLimits.shardsPerMigration}`]]);
});

test('a run asks for at most 64 × 4,096 numbered shards over its migrations, as many as before v2', () => {
  assert.equal(policyLimits.shardsPerRun, 64 * 4096);
  const before = Array.from({ length: 64 }, () => 4096);
  assert.deepEqual(problemsOf(policy(...before)), [], '64 migrations of 4,096 (valid before) stay valid');
  assert.deepEqual(problemsOf(policy(100_000, 100_000, 62_144, 'auto')), []);
  assert.deepEqual(problemsOf(policy(100_000, 100_000, 62_145)), [['spec.migrations', 'must ask for at most 262144 shards over all migrations; these ask for 262145']]);
});
