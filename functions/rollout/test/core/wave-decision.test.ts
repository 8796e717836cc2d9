import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutPhase, TargetPhase } from '@upshift/workloads/core';
import { decideWave, pausedSincePatch, unreachableDeadline, waveDeadline, waveDeadlines } from '../../src/core/wave-decision.ts';

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

const silent = (cluster: string): RolloutPhase => ({ phase: 'Unreachable', message: `cluster ${cluster} unreachable during get of Deployment shop/web: connect ECONNREFUSED`, recheckAfterMs: 2000 });

test('wave: a cluster that does not answer is waited for, never completed, even during a soak', () => {
  const decision = decideWave({ ...base, unreachableDeadline: 60_000, targets: [t('web', 'a', ok), t('web', 'b', silent('b'))] });
  assert.deepEqual(decision, { kind: 'wait', message: 'cluster b unreachable during get of Deployment shop/web: connect ECONNREFUSED', recheckAfterMs: 2000 });
  const soaking = decideWave({ ...base, soakSeconds: 30, succeededAt: 5_000, now: 50_000, unreachableDeadline: 60_000, targets: [t('web', 'b', silent('b'))] });
  assert.equal(soaking.kind, 'wait');
});

test('wave: past the progress deadline a cluster that does not answer fails the wave, naming the cluster', () => {
  const decision = decideWave({ ...base, now: 60_000, unreachableDeadline: 60_000, targets: [t('web', 'a', running()), t('web', 'b', silent('b'))] });
  assert.ok(decision.kind === 'failed');
  assert.deepEqual(decision.failures.map((f) => `${f.service}@${f.cluster}`), ['web@b']);
  assert.match(decision.reason, /^web in b: cluster b did not answer until the progress deadline: cluster b unreachable/);
});

test('wave: without its own deadline a cluster that does not answer fails at the wave deadline', () => {
  assert.equal(decideWave({ ...base, now: 99_999, targets: [t('web', 'b', silent('b'))] }).kind, 'wait');
  assert.equal(decideWave({ ...base, now: 100_000, targets: [t('web', 'b', silent('b'))] }).kind, 'failed');
});

test('unreachable deadline is the progress deadline without grace', () => {
  assert.equal(unreachableDeadline(1_000, 60), 61_000);
});

test('wave: time paused since the patch moves both deadlines later', () => {
  assert.equal(pausedSincePatch(90_000, 30_000), 60_000);
  assert.equal(pausedSincePatch(30_000, undefined), 30_000, 'a wave patched before pauses were recorded counts every pause');
  assert.equal(pausedSincePatch(10_000, 30_000), 0);
  const plain = waveDeadlines(1_000, 60, 0);
  assert.deepEqual(plain, { deadline: waveDeadline(1_000, 60), unreachableDeadline: unreachableDeadline(1_000, 60) });
  const paused = waveDeadlines(1_000, 60, 45_000);
  assert.deepEqual(paused, { deadline: plain.deadline + 45_000, unreachableDeadline: plain.unreachableDeadline + 45_000 });
  const stillRunning = decideWave({ ...base, now: plain.deadline + 1, deadline: paused.deadline, targets: [t('db', 'b', running('1 of 3 pods are ready'))] });
  assert.equal(stillRunning.kind, 'wait', 'past the plain deadline but within the paused time: still waiting');
});
