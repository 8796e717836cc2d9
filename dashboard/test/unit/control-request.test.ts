import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunControlRequested } from '@upshift/events';
import { controlRequestData, parseControlRequest } from '../../src/core/control-request.ts';

const runId = '01a234b8-ee7f-7d90-85c9-a684e9085072';
const newId = () => '0194f0c4-9d6c-7000-8000-000000000001';

test('a pause from the page becomes a control requested by dashboard:<operator>, valid under the contract', () => {
  const parsed = parseControlRequest({ action: 'pause', operator: 'alice' });
  assert.ok(parsed.ok);
  const data = controlRequestData(runId, parsed.body, newId);
  assert.deepEqual(data, { runId, controlId: newId(), action: 'pause', requestedBy: 'dashboard:alice' });
  assert.ok(RunControlRequested.safeParse(data).success);
});

test('the page\'s control id is kept, so the same press sent twice is one control', () => {
  const controlId = '0194f0c4-9d6c-7000-8000-00000000abcd';
  const parsed = parseControlRequest({ action: 'resume', operator: 'bob', controlId });
  assert.ok(parsed.ok);
  assert.equal(controlRequestData(runId, parsed.body, newId).controlId, controlId);
});

test('a throttle carries its rows per second; {} clears it; without settings it is refused', () => {
  const set = parseControlRequest({ action: 'throttle', operator: 'alice', throttle: { rowsPerSecond: 500 } });
  assert.ok(set.ok);
  assert.deepEqual(controlRequestData(runId, set.body, newId).throttle, { rowsPerSecond: 500 });
  const clear = parseControlRequest({ action: 'throttle', operator: 'alice', throttle: {} });
  assert.ok(clear.ok);
  assert.deepEqual(controlRequestData(runId, clear.body, newId).throttle, {});
  const missing = parseControlRequest({ action: 'throttle', operator: 'alice' });
  assert.deepEqual(missing.ok ? [] : missing.problems, ['throttle: a throttle needs its settings ({} clears it)']);
});

test('bodies outside the contract are refused naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ action: 'drop-table', operator: 'alice' }, /^action: /],
    [{ action: 'pause', operator: '<script>alert(1)</script>' }, /^operator: /],
    [{ action: 'pause' }, /^operator: /],
    [{ action: 'pause', operator: 'alice', extra: 1 }, /extra/],
    [{ action: 'throttle', operator: 'alice', throttle: { rowsPerSecond: 0 } }, /^throttle\.rowsPerSecond: /],
    [{ action: 'throttle', operator: 'alice', throttle: { rowsPerSecond: 1.5 } }, /^throttle\.rowsPerSecond: /],
    [{ action: 'abort', operator: 'alice', reason: 'x'.repeat(501) }, /^reason: /],
    [{ action: 'pause', operator: 'alice', controlId: 'not-a-uuid' }, /^controlId: /],
    ['pause', /^body: /],
  ];
  for (const [body, problem] of cases) {
    const parsed = parseControlRequest(body);
    assert.equal(parsed.ok, false, JSON.stringify(body));
    assert.match(parsed.ok ? '' : parsed.problems.join('; '), problem, JSON.stringify(body));
  }
});

test('a promote from the page passes the gate the run waits at (no target: verify takes the current gate)', () => {
  const parsed = parseControlRequest({ action: 'promote', operator: 'carol' });
  assert.ok(parsed.ok);
  const data = controlRequestData(runId, parsed.body, newId);
  assert.deepEqual(data, { runId, controlId: newId(), action: 'promote', requestedBy: 'dashboard:carol' });
  assert.ok(RunControlRequested.safeParse(data).success);
  const noTarget = parseControlRequest({ action: 'retry', operator: 'carol' });
  assert.deepEqual(noTarget.ok ? [] : noTarget.problems, ['target: a retry needs its target: a failed shard or the wave a frozen run stopped at']);
  const wave = parseControlRequest({ action: 'retry', operator: 'carol', target: { kind: 'wave', wave: 1 } });
  assert.ok(wave.ok);
  assert.deepEqual(controlRequestData(runId, wave.body, newId).target, { kind: 'wave', wave: 1 });
  assert.equal(parseControlRequest({ action: 'retry', operator: 'carol', target: { kind: 'wave', wave: -1 } }).ok, false);
  assert.equal(parseControlRequest({ action: 'retry', operator: 'carol', target: { kind: 'shard', shardId: 'x', extra: 1 } }).ok, false);
  const badShard = parseControlRequest({ action: 'retry', operator: 'carol', target: { kind: 'shard', shardId: '<script>alert(1)</script>' } });
  assert.match(badShard.ok ? '' : badShard.problems.join('; '), /^target\.shardId: must be a shard id/, 'refused here with the contract\'s words, not by the publisher');
});
