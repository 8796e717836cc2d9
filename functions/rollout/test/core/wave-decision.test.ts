import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutPhase } from '../../src/core/rollout-status.ts';
import { decideWave, failureResponse, nextStage, revertOrder, waveDeadline, type TargetPhase } from '../../src/core/wave-decision.ts';

const ok: RolloutPhase = { phase: 'Successful', message: 'done' };
const running = (message = 'waiting', recheckAfterMs = 2000): RolloutPhase => ({ phase: 'Running', message, recheckAfterMs });
const broken: RolloutPhase = { phase: 'Failed', message: 'deployment shop/web exceeded its progress deadline', podReasons: [] };
const t = (service: string, cluster: string, phase: RolloutPhase): TargetPhase => ({ service, cluster, phase });
const base = { now: 10_000, deadline: 100_000, soakSeconds: 0 };

test('wave: all successful and no soak completes', () => {
  assert.deepEqual(decideWave({ ...base, targets: [t('web', 'a', ok), t('api', 'a', ok)] }), { kind: 'completed' });
});

test('wave: one failed workload fails the wave, naming it', () => {
  const decision = decideWave({ ...base, targets: [t('web', 'a', ok), t('api', 'a', broken), t('db', 'a', running())] });
  assert.equal(decision.kind, 'failed');
  assert.ok(decision.kind === 'failed');
  assert.deepEqual(decision.failures.map((f) => f.service), ['api']);
  assert.equal(decision.reason, 'api in a: deployment shop/web exceeded its progress deadline');
});

test('wave: workloads in progress wait, with the shortest recheck', () => {
  const decision = decideWave({ ...base, targets: [t('web', 'a', running('web 1 of 3', 3000)), t('api', 'a', running('api 0 of 2', 1000)), t('db', 'a', ok)] });
  assert.deepEqual(decision, { kind: 'wait', message: 'web 1 of 3; api 0 of 2', recheckAfterMs: 1000 });
});

test('wave: in progress past the deadline fails (StatefulSets have no progress deadline of their own)', () => {
  const decision = decideWave({ ...base, now: 100_000, targets: [t('db', 'b', running('1 of 3 pods are ready'))] });
  assert.ok(decision.kind === 'failed');
  assert.equal(decision.reason, 'db in b: not available before the deadline: 1 of 3 pods are ready');
});

test('wave: success starts the soak, which completes once its time has passed', () => {
  const first = decideWave({ ...base, soakSeconds: 30, targets: [t('web', 'a', ok)] });
  assert.ok(first.kind === 'soak');
  assert.equal(first.succeededAt, 10_000);
  assert.equal(first.message, 'soaking, 30s left');
  const during = decideWave({ ...base, now: 25_000, soakSeconds: 30, succeededAt: 10_000, targets: [t('web', 'a', ok)] });
  assert.ok(during.kind === 'soak' && during.message === 'soaking, 15s left');
  const after = decideWave({ ...base, now: 40_000, soakSeconds: 30, succeededAt: 10_000, targets: [t('web', 'a', ok)] });
  assert.deepEqual(after, { kind: 'completed' });
});

test('wave: a workload failing during the soak fails the wave', () => {
  const decision = decideWave({ ...base, now: 20_000, soakSeconds: 30, succeededAt: 10_000, targets: [t('web', 'a', broken)] });
  assert.equal(decision.kind, 'failed');
});

test('wave deadline is the progress deadline plus grace', () => {
  assert.equal(waveDeadline(1_000, 60), 91_000);
  assert.equal(waveDeadline(1_000, 60, 0), 61_000);
});

const m = (ref: string, afterWave: number) => ({ ref, afterWave });
const stages: Array<{ name: string; wave: number; waves: number; migrations: Array<{ ref: string; afterWave: number }>; expected: ReturnType<typeof nextStage> }> = [
  { name: 'no migration after this wave: the next wave', wave: 0, waves: 3, migrations: [m('a@1', 2)], expected: { kind: 'wave', wave: 1 } },
  { name: 'a migration after this wave: it runs, and the rollout stops (not the next wave)', wave: 1, waves: 4, migrations: [m('a@1', 1), m('b@1', 3)], expected: { kind: 'migrate', migrations: [m('a@1', 1)] } },
  { name: 'several after the same wave: all of them, in plan order', wave: 0, waves: 2, migrations: [m('b@1', 0), m('x@1', 1), m('a@1', 0)], expected: { kind: 'migrate', migrations: [m('b@1', 0), m('a@1', 0)] } },
  { name: 'the last wave: its migrations', wave: 2, waves: 3, migrations: [m('a@1', 0), m('b@1', 2)], expected: { kind: 'migrate', migrations: [m('b@1', 2)] } },
  { name: 'the last wave, migrations all ran earlier: verify', wave: 2, waves: 3, migrations: [m('a@1', 0)], expected: { kind: 'verify' } },
  { name: 'the last wave, no migrations at all: verify', wave: 2, waves: 3, migrations: [], expected: { kind: 'verify' } },
];

for (const c of stages) {
  test(`next stage: ${c.name}`, () => assert.deepEqual(nextStage(c.wave, c.waves, c.migrations), c.expected));
}

const responses: Array<{ name: string; policy: 'rollback' | 'freeze'; failedWave: number; migrations: Array<{ afterWave: number }>; expected: ReturnType<typeof failureResponse> }> = [
  { name: 'rollback, no migration ran yet: revert the images only', policy: 'rollback', failedWave: 2, migrations: [{ afterWave: 2 }, { afterWave: 3 }], expected: 'revert' },
  { name: 'rollback, a migration ran after an earlier wave: restore its data, then revert', policy: 'rollback', failedWave: 2, migrations: [{ afterWave: 1 }, { afterWave: 3 }], expected: 'restore-then-revert' },
  { name: 'rollback, no migrations at all: revert', policy: 'rollback', failedWave: 0, migrations: [], expected: 'revert' },
  { name: 'freeze, even with migrated data: leave everything', policy: 'freeze', failedWave: 2, migrations: [{ afterWave: 0 }], expected: 'freeze' },
];

for (const c of responses) {
  test(`failed wave: ${c.name}`, () => assert.equal(failureResponse(c.policy, c.failedWave, c.migrations), c.expected));
}

test('revert order: every touched wave, newest first, later waves untouched', () => {
  const waves = [0, 1, 2, 3].map((wave) => ({ wave, targets: [{ service: `s${wave}`, cluster: 'a', previousImage: `img:${wave}` }] }));
  const order = revertOrder(waves, 2);
  assert.deepEqual(order.map((w) => w.map((x) => `${x.service}@${x.wave}`)), [['s2@2'], ['s1@1'], ['s0@0']]);
});
