import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  controlStateData, decideControl, describeThrottle, isHeldAtGate, isHeldWhilePaused, pausedSoFar, uncontrolled, watchdogClock, type ControlFacts, type ControlRequest,
  type ControlState,
} from '../../src/lifecycle/controls.ts';

const now = Date.parse('2026-12-02T10:00:00Z');
const running: ControlFacts = { status: 'running', state: uncontrolled, now, failurePolicy: 'rollback', stage: 'migrate' };
const pausedState: ControlState = { ...uncontrolled, paused: true, pausedAt: now - 30_000, pausedMs: 5_000 };
const by = { requestedBy: 'ana@ops' };

test('a control of a run that is unknown, ended or rolling back is ignored, saying why', () => {
  const cases: Array<{ facts: ControlFacts; action: 'pause' | 'abort' | 'throttle'; message: string }> = [
    { facts: { status: undefined, state: uncontrolled, now }, action: 'pause', message: 'ignored: the run is unknown to the control store' },
    { facts: { ...running, status: 'completed' }, action: 'abort', message: 'ignored: the run has ended (completed)' },
    { facts: { ...running, status: 'rolled-back' }, action: 'pause', message: 'ignored: the run has ended (rolled-back)' },
    { facts: { ...running, status: 'rolling-back' }, action: 'abort', message: 'ignored: the run is rolling back: its compensations are not controlled' },
    { facts: { ...running, status: 'rolling-back' }, action: 'throttle', message: 'ignored: the run is rolling back: its compensations are not controlled' },
  ];
  for (const c of cases) {
    const decision = decideControl({ ...by, action: c.action, throttle: { rowsPerSecond: 10 } }, c.facts);
    assert.deepEqual([decision.outcome, decision.message, decision.effect.kind], ['ignored', c.message, 'none'], `${c.action} of ${c.facts.status}`);
    assert.equal(decision.state, c.facts.state, 'an ignored control changes nothing');
  }
});

test('pause records since when; a second pause is ignored', () => {
  const paused = decideControl({ ...by, action: 'pause', reason: 'peak hour' }, running);
  assert.equal(paused.outcome, 'applied');
  assert.deepEqual(paused.state, { ...uncontrolled, paused: true, pausedAt: now });
  assert.match(paused.message, /^paused by ana@ops: peak hour/);
  const again = decideControl({ ...by, action: 'pause' }, { ...running, state: paused.state });
  assert.deepEqual([again.outcome, again.message], ['ignored', 'ignored: already paused since 2026-12-02T10:00:00.000Z']);
});

test('resume adds the pause to the time paused and releases held work; on a rolling-back run it drops it', () => {
  const resumed = decideControl({ ...by, action: 'resume' }, { ...running, state: pausedState });
  assert.deepEqual(resumed.state, { ...uncontrolled, paused: false, pausedAt: undefined, pausedMs: 35_000 });
  assert.deepEqual(resumed.effect, { kind: 'release-held' });
  assert.equal(resumed.message, 'resumed after 30.0 s; held work released');
  const rollingBack = decideControl({ ...by, action: 'resume' }, { ...running, status: 'rolling-back', state: pausedState });
  assert.deepEqual([rollingBack.outcome, rollingBack.effect.kind], ['applied', 'drop-held']);
  assert.equal(decideControl({ ...by, action: 'resume' }, running).message, 'ignored: not paused');
});

test('throttle sets, replaces and clears the limit; without one it is ignored', () => {
  const set = decideControl({ ...by, action: 'throttle', throttle: { rowsPerSecond: 2000, pauseMs: 50 } }, running);
  assert.deepEqual(set.state.throttle, { rowsPerSecond: 2000, pauseMs: 50 });
  assert.equal(set.message, 'throttled to 2000 rows/s per shard, 50 ms between batches, from each shard\'s next batch');
  const cleared = decideControl({ ...by, action: 'throttle', throttle: {} }, { ...running, state: set.state });
  assert.deepEqual([cleared.outcome, cleared.state.throttle], ['applied', undefined]);
  const missing = decideControl({ ...by, action: 'throttle' }, running);
  assert.deepEqual([missing.outcome, missing.message], ['ignored', 'ignored: a throttle needs rowsPerSecond, batchSize or pauseMs ({} clears it)']);
  assert.equal(describeThrottle({ batchSize: 100 }), 'batches of at most 100 rows');
});

test('abort applies the failure policy in the run\'s stage with who asked and why, and ends a pause', () => {
  const aborted = decideControl({ ...by, action: 'abort', reason: 'wrong target' }, { ...running, state: pausedState });
  assert.deepEqual(aborted.effect, { kind: 'abort', stage: 'migrate', reason: 'aborted by ana@ops: wrong target' });
  assert.equal(aborted.message, 'aborted by ana@ops: wrong target; rolling back, as its policy asks');
  assert.deepEqual([aborted.state.paused, aborted.state.pausedMs], [false, 35_000]);
  const frozen = decideControl({ ...by, action: 'abort' }, { ...running, failurePolicy: 'freeze' });
  assert.equal(frozen.message, 'aborted by ana@ops; frozen where it stands, as its policy asks');
});

test('retry re-requests a failed shard while its stage is open, and says why it will not otherwise', () => {
  const shardId = 'r1:orders-currency@1:3';
  const target = { kind: 'shard' as const, shardId };
  const base = { ...running, fanInOpen: true, shard: { status: 'failed' as const, requestKnown: true } };
  assert.deepEqual(decideControl({ ...by, action: 'retry', target }, base).effect, { kind: 'retry-shard', shardId });
  assert.match(decideControl({ ...by, action: 'retry', target }, { ...base, state: pausedState }).message, /held until the run is resumed/);
  const refusals: Array<{ request: Partial<ControlRequest>; facts: Partial<ControlFacts>; message: RegExp }> = [
    { request: { target: undefined }, facts: {}, message: /a retry needs a target/ },
    { request: { target: { kind: 'wave', wave: 1 } }, facts: {}, message: /a running run has no failed wave to retry/ },
    { request: {}, facts: { shard: { status: undefined, requestKnown: false } }, message: /is not a shard of this run/ },
    { request: {}, facts: { shard: { status: 'running', requestKnown: true } }, message: /is running; only a failed shard is retried/ },
    { request: {}, facts: { fanInOpen: false }, message: /every shard of the run is final/ },
    { request: {}, facts: { shard: { status: 'failed', requestKnown: false } }, message: /never requested/ },
    { request: {}, facts: { status: 'failed' }, message: /the run has ended \(failed\)/ },
  ];
  for (const refusal of refusals) {
    const decision = decideControl({ ...by, action: 'retry', target, ...refusal.request }, { ...base, ...refusal.facts });
    assert.equal(decision.outcome, 'ignored', String(refusal.message));
    assert.match(decision.message, refusal.message);
  }
});

test('promote without a gate waiting is ignored, saying so', () => {
  const decision = decideControl({ ...by, action: 'promote', target: { kind: 'wave', wave: 1 } }, running);
  assert.equal(decision.outcome, 'ignored');
  assert.match(decision.message, /not waiting at a gate/);
  assert.match(decideControl({ ...by, action: 'promote' }, running).message, /not waiting at a gate/);
});

test('promote passes the gate the run waits at (named or current) and releases its wave; another wave or a shard is ignored', () => {
  const atGate: ControlFacts = { ...running, state: { ...uncontrolled, gateWave: 2 } };
  for (const request of [{ ...by, action: 'promote' as const }, { ...by, action: 'promote' as const, target: { kind: 'wave' as const, wave: 2 } }]) {
    const decision = decideControl(request, atGate);
    assert.equal(decision.outcome, 'applied');
    assert.equal(decision.state.gateWave, undefined);
    assert.deepEqual(decision.effect, { kind: 'release-held' });
    assert.match(decision.message, /wave 3 starts/);
  }
  const wrongWave = decideControl({ ...by, action: 'promote', target: { kind: 'wave', wave: 1 } }, atGate);
  assert.equal(wrongWave.outcome, 'ignored');
  assert.match(wrongWave.message, /the gate is before wave 3, not 2/);
  assert.equal(wrongWave.state.gateWave, 2);
  assert.equal(decideControl({ ...by, action: 'promote', target: { kind: 'shard', shardId: 'r:m@1:0' } }, atGate).outcome, 'ignored');
  assert.match(decideControl({ ...by, action: 'promote' }, { ...atGate, status: 'completed' }).message, /has ended/);
});

test('a resume does not pass a gate; a promote of a paused run passes it but leaves the wave held until the resume', () => {
  const pausedAtGate: ControlFacts = { ...running, state: { ...pausedState, gateWave: 1 } };
  const resumed = decideControl({ ...by, action: 'resume' }, pausedAtGate);
  assert.equal(resumed.outcome, 'applied');
  assert.equal(resumed.state.gateWave, 1);
  assert.match(resumed.message, /wave 2 still waits at its gate/);
  const promoted = decideControl({ ...by, action: 'promote' }, pausedAtGate);
  assert.equal(promoted.outcome, 'applied');
  assert.equal(promoted.state.gateWave, undefined);
  assert.equal(promoted.state.paused, true);
  assert.deepEqual(promoted.effect, { kind: 'none' });
  assert.equal(decideControl({ ...by, action: 'resume' }, { ...running, state: { ...uncontrolled, gateWave: 1 } }).outcome, 'ignored');
  const aborted = decideControl({ ...by, action: 'abort' }, pausedAtGate);
  assert.equal(aborted.state.gateWave, undefined);
});

test('a gated wave\'s request is held when it reaches its gate and while that gate is current, not after its promote', () => {
  assert.equal(isHeldAtGate(false, undefined, 1, false), false);
  assert.equal(isHeldAtGate(true, undefined, 1, false), true);
  assert.equal(isHeldAtGate(true, 1, 1, true), true);
  assert.equal(isHeldAtGate(true, undefined, 1, true), false);
  assert.equal(isHeldAtGate(true, 3, 1, true), false);
});

test('time paused counts the running pause; the event state carries when it began', () => {
  assert.equal(pausedSoFar(pausedState, now), 35_000);
  assert.equal(pausedSoFar({ ...pausedState, paused: false }, now), 5_000);
  assert.deepEqual(controlStateData(pausedState), { paused: true, pausedAt: '2026-12-02T09:59:30.000Z', pausedMs: 5_000 });
  assert.deepEqual(controlStateData({ ...uncontrolled, throttle: { batchSize: 10 } }), { paused: false, pausedMs: 0, throttle: { batchSize: 10 } });
  assert.deepEqual(controlStateData({ ...uncontrolled, gateWave: 1 }), { paused: false, pausedMs: 0, gate: { wave: 1 } });
});

test('forward events are held while paused; work in flight, outcomes and the rollback are not', () => {
  for (const name of ['rollout.wave.requested', 'migration.requested', 'shard.requested', 'verify.requested', 'migration.expand.done']) assert.ok(isHeldWhilePaused(name), name);
  for (const name of ['rollout.wave.check', 'shard.completed', 'shard.failed', 'rollback.requested', 'shard.restore.requested', 'image.revert.requested', 'run.progress', 'upgrade.completed']) {
    assert.equal(isHeldWhilePaused(name), false, name);
  }
});

test('the watchdog leaves a paused running run alone and counts a control as progress', () => {
  assert.equal(watchdogClock(1000, { paused: true, changedAt: 500 }, 'running'), undefined);
  assert.equal(watchdogClock(1000, { paused: true, changedAt: 500 }, 'rolling-back'), 1000);
  assert.equal(watchdogClock(1000, { paused: false, changedAt: 5000 }, 'running'), 5000);
  assert.equal(watchdogClock(1000, { paused: false, changedAt: undefined }, 'running'), 1000);
  assert.equal(watchdogClock(1000, { paused: false, gateWave: 1, changedAt: undefined }, 'running'), undefined, 'a run waiting at a gate waits for its operator');
  assert.equal(watchdogClock(1000, { paused: false, gateWave: 1, changedAt: undefined }, 'rolling-back'), 1000);
});

const frozen: ControlFacts = {
  status: 'failed', state: uncontrolled, now, failurePolicy: 'freeze', stage: 'rollout',
  frozen: { stage: 'rollout', reason: 'frozen as the policy asks; workloads left as they are: wave 2 failed', waves: ['completed', 'failed', 'pending'], takenBy: [] },
};

test('a frozen run goes on from the wave it stopped at, and only from that wave', () => {
  const retried = decideControl({ ...by, action: 'retry', target: { kind: 'wave', wave: 1 } }, frozen);
  assert.deepEqual([retried.outcome, retried.effect], ['applied', { kind: 'reopen-wave', wave: 1 }]);
  assert.match(retried.message, /^the frozen run goes on: wave 2 rolls out again/);
  const cases: Array<[number, RegExp]> = [
    [0, /^ignored: wave 1 completed; retry the wave the run stopped at$/],
    [2, /^ignored: the run stopped at wave 2, not 3: waves run in order$/],
    [3, /^ignored: the run has 3 wave\(s\), not 4$/],
  ];
  for (const [wave, message] of cases) {
    const decision = decideControl({ ...by, action: 'retry', target: { kind: 'wave', wave } }, frozen);
    assert.deepEqual([decision.outcome, decision.effect.kind], ['ignored', 'none'], `wave ${wave + 1}`);
    assert.match(decision.message, message);
  }
  const atMigrate = decideControl({ ...by, action: 'retry', target: { kind: 'wave', wave: 1 } }, { ...frozen, frozen: { ...frozen.frozen!, stage: 'migrate', waves: ['completed', 'pending', 'pending'] } });
  assert.match(atMigrate.message, /^ignored: the run froze at its migrate stage before wave 2: retry a failed shard, or abort to roll it back$/);
});

test('a frozen run retries a failed shard that its outbox requested, and nothing else', () => {
  const facts: ControlFacts = { ...frozen, frozen: { ...frozen.frozen!, stage: 'migrate' }, shard: { status: 'failed', requestKnown: true } };
  const target = { kind: 'shard' as const, shardId: 'r1:m@1:0' };
  assert.deepEqual(decideControl({ ...by, action: 'retry', target }, facts).effect, { kind: 'reopen-shard', shardId: 'r1:m@1:0' });
  assert.match(decideControl({ ...by, action: 'retry', target }, { ...facts, shard: { status: 'completed', requestKnown: true } }).message, /only a failed shard is retried/);
  assert.match(decideControl({ ...by, action: 'retry', target }, { ...facts, shard: { status: 'failed', requestKnown: false } }).message, /nothing to re-request/);
  assert.match(decideControl({ ...by, action: 'retry', target }, { ...facts, shard: undefined }).message, /is not a shard of this run/);
});

test('abort of a frozen run rolls it back, naming who asked and why it froze; other controls say what a frozen run takes', () => {
  const rolled = decideControl({ ...by, action: 'abort', reason: 'give up' }, frozen);
  assert.deepEqual(rolled.effect, { kind: 'rollback-frozen', stage: 'rollout', reason: `rolled back by ana@ops: give up after the freeze: ${frozen.frozen!.reason}` });
  assert.equal(rolled.message, 'rolling back the frozen run, as ana@ops: give up asked');
  for (const action of ['pause', 'resume', 'promote'] as const) {
    const decision = decideControl({ ...by, action }, frozen);
    assert.equal(decision.message, 'ignored: the run is frozen: `retry` the wave or shard it stopped at to go on, or `abort` to roll it back', action);
  }
  const taken = decideControl({ ...by, action: 'abort' }, { ...frozen, frozen: { ...frozen.frozen!, takenBy: ['workload a/b/c (run r2)', 'x', 'y', 'z'] } });
  assert.deepEqual([taken.outcome, taken.message], ['ignored', 'ignored: the frozen run\'s targets belong to another active run now: workload a/b/c (run r2), x, y and 1 more']);
  const failedRolledBack = decideControl({ ...by, action: 'abort' }, { ...frozen, frozen: undefined });
  assert.equal(failedRolledBack.message, 'ignored: the run has ended (failed)', 'a failed run that is not frozen stays ended');
});
