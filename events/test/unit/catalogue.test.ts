import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { catalogue, entries, entryForType, eventNames, FunctionName, fixturesDir, routesFor, topics, workTopics } from '../../src/index.ts';

test('every type is reverse-DNS and versioned after its short name', () => {
  for (const e of entries) assert.equal(e.type, `dev.upshift.${e.name}.v${e.version}`);
});

test('lifecycle events go to upshift.lifecycle, work events to their consumer\'s topic', () => {
  for (const e of entries) {
    assert.equal(e.lifecycle, e.consumer === null, e.name);
    assert.equal(e.topic, e.lifecycle ? 'upshift.lifecycle' : `upshift.${e.consumer}`, e.name);
  }
});

test('shard events are keyed by shard id, every other event by run id', () => {
  for (const e of entries) assert.equal(e.keyField, e.name.startsWith('shard.') ? 'shardId' : 'runId', e.name);
});

test('every schema carries runId and its key field', () => {
  for (const e of entries) {
    const shape = (e.schema as unknown as { shape: Record<string, unknown> }).shape;
    assert.ok('runId' in shape && e.keyField in shape, e.name);
  }
});

test('entryForType finds every type and nothing else', () => {
  for (const e of entries) assert.equal(entryForType(e.type), e);
  assert.equal(entryForType('dev.upshift.shard.requested.v0'), undefined);
});

test('routesFor covers every work event exactly once', () => {
  const routed = FunctionName.options.flatMap((fn) => routesFor(fn).types);
  assert.deepEqual([...routed].sort(), entries.filter((e) => !e.lifecycle).map((e) => e.type).sort());
  assert.deepEqual(routesFor('migrate-shard').topics, ['upshift.migrate-shard']);
  assert.ok(routesFor('plan').types.includes(catalogue['upgrade.requested'].type));
});

test('topics: one per function, lifecycle and dead letter; migrate-shard has 12 partitions', () => {
  assert.deepEqual(topics.map((t) => t.topic).sort(), [...workTopics, 'upshift.lifecycle', 'upshift.dead-letter'].sort());
  for (const t of topics) assert.equal(t.partitions, t.topic === 'upshift.migrate-shard' ? 12 : 3);
});

test('the flow\'s events are all in the catalogue, each with a golden fixture', () => {
  const expected = [
    'upgrade.requested', 'upgrade.planned', 'upgrade.rejected', 'upgrade.completed', 'upgrade.failed', 'upgrade.rolled-back',
    'migration.expand.requested', 'migration.expand.done', 'rollout.wave.requested', 'rollout.wave.check', 'rollout.wave.completed',
    'rollout.wave.failed', 'migration.requested', 'shard.requested', 'shard.completed', 'shard.failed', 'rollback.requested',
    'shard.restore.requested', 'shard.restore.done', 'image.revert.requested', 'image.revert.check', 'verify.requested', 'migration.contract.requested',
    'verify.results', 'run.progress', 'run.control.requested', 'run.control.applied',
  ];
  assert.deepEqual([...eventNames].sort(), expected.sort());
  for (const name of eventNames) assert.ok(existsSync(new URL(`${name}.json`, fixturesDir)), `fixture for ${name}`);
});
