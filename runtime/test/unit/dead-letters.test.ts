import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTransientStatus, onDeadLetter, redriveDelayMs, stageOfEvent, type DeadLetter } from '../../src/lifecycle/dead-letters.ts';

const letter = (status: number, type = 'dev.upshift.shard.requested.v1'): DeadLetter => ({ type, id: 'e-1', destination: 'http://migrate-shard', status, reason: 'no answer' });

const cases: Array<{ name: string; status: number; redrives: number; runEnded?: boolean; expected: string }> = [
  { name: 'the function was down (no answer): redriven', status: 0, redrives: 0, expected: 'redrive 1' },
  { name: 'busy (429) after one redrive: redriven again', status: 429, redrives: 1, expected: 'redrive 2' },
  { name: 'a lease still held (409): redriven', status: 409, redrives: 2, expected: 'redrive 3' },
  { name: 'a 5xx past the limit: the run fails', status: 503, redrives: 5, expected: 'fail migrate' },
  { name: 'refused as malformed (400): the run fails at once', status: 400, redrives: 0, expected: 'fail migrate' },
  { name: 'a run that already ended: only recorded', status: 503, redrives: 0, runEnded: true, expected: 'record' },
];

for (const c of cases) {
  test(`dead letter: ${c.name}`, () => {
    const decision = onDeadLetter(letter(c.status), { redrives: c.redrives, limit: 5, runEnded: c.runEnded ?? false });
    const seen = decision.kind === 'redrive' ? `redrive ${decision.redrive}` : decision.kind === 'fail' ? `fail ${decision.stage}` : 'record';
    assert.equal(seen, c.expected);
  });
}

test('a failing dead letter names the event, where it went and the cause', () => {
  const decision = onDeadLetter(letter(503), { redrives: 5, limit: 5, runEnded: false });
  assert.equal(decision.kind, 'fail');
  assert.equal(decision.kind === 'fail' ? decision.reason : '', 'dev.upshift.shard.requested.v1 e-1 to http://migrate-shard was dead-lettered again after 5 redrive(s): HTTP 503: no answer');
});

test('redrives back off: 2 s, 4 s, 8 s … capped at 30 s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(redriveDelayMs), [2000, 4000, 8000, 16_000, 30_000, 30_000]);
});

test('transient statuses follow Knative\'s retry rule', () => {
  assert.deepEqual([0, 400, 404, 408, 409, 413, 429, 500, 503].map(isTransientStatus), [true, false, true, true, true, false, true, true, true]);
});

test('each event belongs to the stage a failure is reported in', () => {
  const stages = ['upgrade.requested', 'migration.expand.requested', 'migration.expand.done', 'rollout.wave.check', 'shard.requested', 'shard.completed', 'verify.requested', 'shard.restore.requested', 'image.revert.check', 'migration.contract.requested']
    .map((name) => stageOfEvent(`dev.upshift.${name}.v1`));
  assert.deepEqual(stages, ['plan', 'expand', 'rollout', 'rollout', 'migrate', 'migrate', 'verify', 'rollback', 'rollback', 'contract']);
});
