import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WaveDecision } from '../src/core/wave-decision.ts';
import { watchWithinBudget } from '../src/watch.ts';

const wait = (recheckAfterMs: number): WaveDecision => ({ kind: 'wait', message: 'rolling', recheckAfterMs });

test('watch: looks again until the decision is final', async () => {
  const decisions: WaveDecision[] = [wait(5), wait(5), { kind: 'completed' }];
  let looks = 0;
  const final = await watchWithinBudget(10_000, async () => decisions[looks++] ?? assert.fail('looked too often'));
  assert.deepEqual([final.kind, looks], ['completed', 3]);
});

test('watch: hands over when the next look would fall past the budget', async () => {
  let looks = 0;
  const started = Date.now();
  const last = await watchWithinBudget(50, async () => {
    looks++;
    return wait(20);
  });
  assert.equal(last.kind, 'wait');
  assert.ok(looks >= 1 && looks <= 3, `${looks} looks`);
  assert.ok(Date.now() - started < 1000);
});

test('watch: a budget of 0 looks exactly once', async () => {
  let looks = 0;
  await watchWithinBudget(0, async () => {
    looks++;
    return { kind: 'soak', message: 'soaking', recheckAfterMs: 1, succeededAt: 1 };
  });
  assert.equal(looks, 1);
});
