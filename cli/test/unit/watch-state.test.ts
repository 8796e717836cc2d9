import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent, type AnyUpshiftEvent, type EventData, type EventName } from '@upshift/events';
import { bar, changedLines, etaMs, formatCount, formatDuration, isProgressLine, migrationLine, renderFrame, rowsPerSecond } from '../../src/watch/render.ts';
import { applyEvent, applyEvents, applyShardCheckpoints, emptyView, outcomeFromStatus, type MigrationView, type RunView } from '../../src/watch/state.ts';
import { parseShardKey, rowsOfCheckpoint } from '../../src/watch/store.ts';

const runId = 'run-1';
const t0 = Date.parse('2026-11-23T10:00:00.000Z');
let seq = 0;

function ev<N extends EventName>(name: N, data: EventData<N>, atSeconds: number, producer: 'plan' | 'rollout' | 'migrate-shard' | 'verify' = 'plan'): AnyUpshiftEvent {
  seq += 1;
  return createEvent(name, data, { producer, id: `e-${seq}`, time: new Date(t0 + atSeconds * 1000) }) as AnyUpshiftEvent;
}

const target = (service: string, cluster: string, tag: string) => ({
  service, cluster, namespace: 'shop', workload: { kind: 'Deployment' as const, name: service }, container: service,
  image: `registry.local/shop/${service}:${tag}`, previousImage: `registry.local/shop/${service}:1.0.0`,
});

const planned = () => ev('upgrade.planned', {
  runId, policyName: 'shop', dryRun: false,
  waves: [{ index: 0, targets: [target('customers', 'upshift-a', '2.0.0')] }, { index: 1, targets: [target('orders', 'upshift-a', '3.0.0')] }],
  migrations: [{ ref: 'orders-currency@1', store: 'postgres', shards: 2, batchSize: 500, backup: true }],
}, 0);
const waveDone = (wave: number, service: string, at: number) => ev('rollout.wave.completed', {
  runId, wave, waves: 2, targets: [{ service, cluster: 'upshift-a', image: `registry.local/shop/${service}:2.0.0`, previousImage: `registry.local/shop/${service}:1.0.0` }],
}, at, 'rollout');
const shardDone = (index: number, rows: number, at: number) => ev('shard.completed', {
  runId, shardId: `${runId}:orders-currency@1:${index}`, migration: 'orders-currency@1', rowsMigrated: rows, batches: 2, durationMs: 1000,
}, at, 'migrate-shard');
const completed = (at: number) => ev('upgrade.completed', {
  runId, policyName: 'shop', services: [{ service: 'customers', cluster: 'upshift-a', image: 'registry.local/shop/customers:2.0.0' }],
  migrations: [{ ref: 'orders-currency@1', shards: 2, rowsMigrated: 300 }], contracted: false, durationMs: at * 1000,
}, at, 'verify');

const fold = (events: AnyUpshiftEvent[]): RunView => applyEvents(emptyView(runId), events);
const states = (view: RunView) => view.waves.map((w) => w.targets.map((t) => t.state).join(',')).join(' | ');

const cases: Array<{ name: string; events: () => AnyUpshiftEvent[]; stage: string; waves: string; outcome?: string; success?: boolean; failures?: RegExp[] }> = [
  { name: 'planned: every target pending', events: () => [planned()], stage: 'plan', waves: 'pending | pending' },
  { name: 'first wave done: rollout stage', events: () => [planned(), waveDone(0, 'customers', 5)], stage: 'rollout', waves: 'done | pending' },
  {
    name: 'wave failed: the target is failed with its reason, listed as a failure',
    events: () => [planned(), waveDone(0, 'customers', 5), ev('rollout.wave.failed', { runId, wave: 1, reason: 'orders in upshift-a: progress deadline exceeded', targets: [{ service: 'orders', cluster: 'upshift-a', reason: 'ProgressDeadlineExceeded' }] }, 20, 'rollout')],
    stage: 'rollout', waves: 'done | failed', failures: [/wave 2 of 2: orders in upshift-a: progress deadline exceeded/],
  },
  {
    name: 'rolled back: touched targets reverted, outcome not a success',
    events: () => [planned(), waveDone(0, 'customers', 5), ev('rollout.wave.failed', { runId, wave: 1, reason: 'deadline', targets: [{ service: 'orders', cluster: 'upshift-a', reason: 'deadline' }] }, 20, 'rollout'),
      ev('upgrade.rolled-back', { runId, stage: 'rollout', reason: 'wave 2 failed', restoredShards: 0, revertedWorkloads: 2 }, 30, 'rollout')],
    stage: 'rollback', waves: 'reverted | reverted', outcome: 'upgrade.rolled-back', success: false,
  },
  {
    name: 'completed: shards counted, outcome success',
    events: () => [planned(), waveDone(0, 'customers', 5), waveDone(1, 'orders', 10), shardDone(0, 100, 12), shardDone(1, 200, 14), completed(16)],
    stage: 'migrate', waves: 'done | done', outcome: 'upgrade.completed', success: true,
  },
  {
    name: 'shard failed: named with its reason',
    events: () => [planned(), ev('shard.failed', { runId, shardId: `${runId}:orders-currency@1:1`, migration: 'orders-currency@1', reason: 'key 42: check constraint violated', rowsMigrated: 3 }, 9, 'migrate-shard')],
    stage: 'migrate', waves: 'pending | pending', failures: [/shard orders-currency@1 #1: key 42: check constraint/],
  },
  {
    name: 'rejected: every problem listed',
    events: () => [ev('upgrade.rejected', { runId, policyName: 'shop', code: 'invalid-policy', reason: 'the policy is invalid', problems: [{ path: 'spec.services[0].image', message: 'must be pinned' }] }, 1)],
    stage: 'plan', waves: '', outcome: 'upgrade.rejected', success: false, failures: [/spec\.services\[0\]\.image: must be pinned/],
  },
];

for (const c of cases) {
  test(`reducer: ${c.name}`, () => {
    const view = fold(c.events());
    assert.equal(view.stage, c.stage);
    assert.equal(states(view), c.waves);
    assert.equal(view.outcome?.name, c.outcome);
    if (c.success !== undefined) assert.equal(view.outcome?.success, c.success);
    for (const f of c.failures ?? []) assert.ok(view.failures.some((line) => f.test(line)), `${f} in ${view.failures.join('\n')}`);
  });
}

/** orders-currency@1 runs after wave 0 (`after: [customers]`), before the orders wave. */
const plannedEarly = () => ev('upgrade.planned', {
  runId, policyName: 'shop', dryRun: false,
  waves: [{ index: 0, targets: [target('customers', 'upshift-a', '2.0.0')] }, { index: 1, targets: [target('orders', 'upshift-a', '3.0.0')] }],
  migrations: [{ ref: 'orders-currency@1', store: 'postgres', shards: 2, batchSize: 500, backup: true, afterWave: 0 }],
}, 0);
const migrationRequested = (at: number) => ev('migration.requested', { runId, migrations: [{ ref: 'orders-currency@1', store: 'postgres', shards: 2, batchSize: 500, backup: true, afterWave: 0 }] }, at, 'rollout');
const nextWave = (at: number) => ev('rollout.wave.requested', { runId, wave: 1, waves: 2, targets: [target('orders', 'upshift-a', '3.0.0')].map(({ previousImage: _p, ...t }) => t) }, at, 'verify');
const restored = (index: number, rows: number, at: number) => ev('shard.restore.done', { runId, shardId: `${runId}:orders-currency@1:${index}`, migration: 'orders-currency@1', outcome: 'restored', rowsRestored: rows }, at, 'migrate-shard');

test('reducer: a migration after an early wave: migrate, then rollout again for the next wave', () => {
  const migrating = fold([plannedEarly(), waveDone(0, 'customers', 5), migrationRequested(5), shardDone(0, 100, 7)]);
  assert.equal(migrating.stage, 'migrate');
  assert.equal(migrating.migrations[0]?.afterWave, 0);
  const progress = ev('run.progress', { runId, stage: 'migrate', percent: 50, wavesDone: 1, wavesTotal: 2, shardsDone: 1, shardsTotal: 2, rowsMigrated: 100, message: 'shard 1: 100 changed' }, 7, 'migrate-shard');
  const resumed = fold([plannedEarly(), waveDone(0, 'customers', 5), migrationRequested(5), progress, shardDone(0, 100, 7), shardDone(1, 200, 8), nextWave(8)]);
  assert.equal(resumed.stage, 'rollout');
  assert.deepEqual([resumed.percent, resumed.message], [undefined, undefined], 'the migration\'s last progress report is not shown under the rollout stage');
  const lifecycleOnly = fold([plannedEarly(), waveDone(0, 'customers', 5), shardDone(0, 100, 7), shardDone(1, 200, 8), waveDone(1, 'orders', 12)]);
  assert.equal(lifecycleOnly.stage, 'rollout', 'a completed wave after the migration is the rollout stage, even without the work events');
});

test('reducer: a later wave fails after the early migration: its shards are restored, then the images', () => {
  const view = fold([plannedEarly(), waveDone(0, 'customers', 5), migrationRequested(5), shardDone(0, 100, 7), shardDone(1, 200, 8), nextWave(8),
    ev('rollout.wave.failed', { runId, wave: 1, reason: 'orders in upshift-a: deadline', targets: [{ service: 'orders', cluster: 'upshift-a', reason: 'deadline' }] }, 20, 'rollout'),
    ev('rollback.requested', { runId, stage: 'rollout', reason: 'orders in upshift-a: deadline' }, 20, 'rollout'), restored(0, 100, 22), restored(1, 200, 23),
    ev('image.revert.requested', { runId, stage: 'rollout', reason: 'orders in upshift-a: deadline', restoredShards: 2 }, 23, 'verify'),
    ev('upgrade.rolled-back', { runId, stage: 'rollout', reason: 'orders in upshift-a: deadline', restoredShards: 2, revertedWorkloads: 2 }, 30, 'rollout')]);
  assert.equal(view.stage, 'rollback');
  assert.equal(states(view), 'reverted | reverted');
  assert.deepEqual(view.migrations[0]?.shards, { 0: { state: 'restored', rows: 100 }, 1: { state: 'restored', rows: 200 } });
  assert.equal(view.outcome?.name, 'upgrade.rolled-back');
});

test('render: a migration not started yet says after which wave it starts', () => {
  const view = fold([plannedEarly()]);
  const line = migrationLine(view.migrations[0] ?? assert.fail('no migration'), false);
  assert.match(line, /0\/2 shards .* starts after wave 1$/);
  assert.match(migrationLine(view.migrations[0] ?? assert.fail('no migration'), false, 2), /starts after wave 1 of 2$/);
  assert.match(renderFrame(view, 0), /^ {2}wave 1 of 2 {2}pending\n.*\n {2}wave 2 of 2 {2}pending$/m, 'the frame counts waves from 1, with the total');
  assert.doesNotMatch(migrationLine(fold([plannedEarly(), shardDone(0, 100, 7)]).migrations[0] ?? assert.fail('no migration'), false), /starts after/);
});

test('reducer: an event seen twice (Kafka and the outbox) counts once; other runs are ignored', () => {
  const done = shardDone(0, 100, 3);
  const other = createEvent('shard.completed', { runId: 'run-2', shardId: 'run-2:orders-currency@1:0', migration: 'orders-currency@1', rowsMigrated: 9, batches: 1, durationMs: 1 }, { producer: 'migrate-shard', id: 'x' }) as AnyUpshiftEvent;
  const view = fold([planned(), done, done, other]);
  assert.equal(view.migrations[0]?.shards['0']?.rows, 100);
  assert.equal(Object.keys(view.migrations[0]?.shards ?? {}).length, 1);
  assert.equal(applyEvent(view, done), view);
});

test('reducer: live checkpoints only grow a running shard and never undo a final state', () => {
  let view = fold([planned(), shardDone(0, 100, 3)]);
  view = applyShardCheckpoints(view, [{ migration: 'orders-currency@1', index: '0', rows: 5, status: 'running' }, { migration: 'orders-currency@1', index: '1', rows: 40, status: 'running', estimatedRows: 150 }], t0 + 4000);
  view = applyShardCheckpoints(view, [{ migration: 'orders-currency@1', index: '1', rows: 30, status: 'running' }], t0 + 5000);
  assert.deepEqual(view.migrations[0]?.shards, { 0: { state: 'completed', rows: 100 }, 1: { state: 'running', rows: 40 } });
  assert.equal(view.migrations[0]?.expectedRows, 150);
});

test('outcome from a stored status: completed and planned succeed, the rest fail', () => {
  const table: Array<[string, boolean | undefined]> = [['completed', true], ['planned', true], ['rolled-back', false], ['failed', false], ['rejected', false], ['running', undefined]];
  for (const [status, success] of table) assert.equal(outcomeFromStatus(status)?.success, success, status);
});

const migration = (samples: Array<[number, number]>, expectedRows?: number): MigrationView => ({
  ref: 'orders-currency@1', store: 'postgres', shardsTotal: 4, samples,
  shards: { 0: { state: 'completed', rows: 100 }, 1: { state: 'running', rows: (samples.at(-1)?.[1] ?? 100) - 100 } },
  ...(expectedRows ? { expectedRows } : {}),
});

test('render: formats, bars, rate and ETA', () => {
  const table: Array<[string, string]> = [
    [formatDuration(0), '0s'], [formatDuration(59_400), '59s'], [formatDuration(185_000), '3m05s'], [formatDuration(3_720_000), '1h02m'],
    [formatCount(1234567), '1,234,567'], [formatCount(12), '12'],
    [bar(0, 10), '[----------]'], [bar(0.5, 10), '[#####-----]'], [bar(1.7, 4), '[####]'], [bar(Number.NaN, 4), '[----]'],
  ];
  for (const [got, want] of table) assert.equal(got, want);
  const m = migration([[0, 100], [5_000, 600], [10_000, 1100]], 2100);
  assert.equal(rowsPerSecond(m), 100);
  assert.equal(etaMs(m), 10_000);
  assert.equal(rowsPerSecond(migration([[0, 100]])), undefined, 'one sample: no rate');
  assert.equal(etaMs(migration([[0, 100], [5_000, 600]])), undefined, 'no total: no ETA');
  assert.match(migrationLine(m, false), /orders-currency@1 +postgres +\[##########----------\] +1\/4 shards +1,100\/2,100 rows +100 rows\/s +ETA 10s/);
  assert.doesNotMatch(migrationLine(m, true), /ETA|rows\/s/);
});

test('render: the frame of a rolled-back run shows waves, failures and the result', () => {
  const view = fold([planned(), waveDone(0, 'customers', 5), ev('rollout.wave.failed', { runId, wave: 1, reason: 'orders in upshift-a: deadline', targets: [{ service: 'orders', cluster: 'upshift-a', reason: 'deadline' }] }, 20, 'rollout'),
    ev('upgrade.rolled-back', { runId, stage: 'rollout', reason: 'wave 2 failed', restoredShards: 0, revertedWorkloads: 2 }, 30, 'rollout')]);
  const frame = renderFrame(view, t0 + 99_000);
  assert.match(frame, /^run run-1 {2}policy shop\nstage: rollback {2}elapsed 30s\n/);
  assert.match(frame, /\[<-\] customers@upshift-a +registry\.local\/shop\/customers:1\.0\.0 -> 2\.0\.0/);
  assert.match(frame, /failures\n {2}! wave 2 of 2: orders in upshift-a: deadline/);
  assert.match(frame, /result: ROLLED BACK - 2 workloads reverted, 0 shards restored\nreason: wave 2 failed\n$/);
  assert.ok(!frame.includes(String.fromCharCode(27)), 'no escape sequences in the frame');
});

test('render: changed lines ignore clock-only changes and section titles', () => {
  const a = 'run r\nstage: migrate  elapsed 5s\nmigrations\n  m  [#---]  1/4 shards  10 rows  3 rows/s  ETA 9s\n';
  const b = 'run r\nstage: migrate  elapsed 6s\nmigrations\n  m  [#---]  1/4 shards  10 rows  4 rows/s  ETA 8s\n';
  const c = 'run r\nstage: migrate  elapsed 7s\nmigrations\n  m  [##--]  2/4 shards  20 rows  4 rows/s  ETA 5s\n';
  assert.deepEqual(changedLines(a, b), []);
  assert.deepEqual(changedLines(b, c), ['  m  [##--]  2/4 shards  20 rows  4 rows/s  ETA 5s']);
  assert.deepEqual(changedLines('stage: migrate  40%  elapsed 5s  - shard 1: 10 changed\n', 'stage: migrate  41%  elapsed 6s  - shard 2: 20 changed\n'), [], 'percent and message alone do not print');
  assert.deepEqual(changedLines('stage: migrate  99%\n', 'stage: verify\n'), ['stage: verify']);
  assert.deepEqual([isProgressLine(c.split('\n')[3] ?? ''), isProgressLine('stage: migrate')], [true, false]);
});

test('store: shard keys and checkpoints of migrate-shard and of the bare runner', () => {
  assert.deepEqual(parseShardKey('01a2-run:orders-currency@1:7'), { migration: 'orders-currency@1', index: '7' });
  assert.deepEqual(parseShardKey('customers-profile@1/12'), { migration: 'customers-profile@1', index: '12' });
  assert.equal(parseShardKey('wave-3'), undefined);
  assert.deepEqual(rowsOfCheckpoint({ migration: 'm@1', checkpoint: { changed: 42 }, estimatedRows: 100 }), { rows: 42, estimatedRows: 100 });
  assert.deepEqual(rowsOfCheckpoint({ changed: 7 }), { rows: 7, estimatedRows: 0 });
  assert.deepEqual(rowsOfCheckpoint(null), { rows: 0, estimatedRows: 0 });
});
