import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunPlan } from '@upshift/events';
import { afterExpand, afterWave, allFinal, firstStage, type NextStage } from '../../src/lifecycle/stages.ts';
import { afterImageRevert, afterRestores, compensations, doneSteps, imageRevertOrder, migrationsRunBefore, onStageFailed } from '../../src/lifecycle/rollback.ts';
import { canTransition, finalRunStatuses, runStatuses } from '../../src/lifecycle/statuses.ts';

/** A plan of `waves` one-target waves and these migrations (ref, afterWave). */
function planOf(waves: number, migrations: Array<[string, number]>, failurePolicy: 'rollback' | 'freeze' = 'rollback'): RunPlan {
  return {
    runId: 'run-1', policyName: 'p', dryRun: false, clusters: [],
    strategy: { failurePolicy } as RunPlan['strategy'],
    waves: Array.from({ length: waves }, (_, index) => ({ index, targets: [{ service: `s${index}`, cluster: 'a', namespace: 'n', workload: { kind: 'Deployment', name: `s${index}` }, container: 'app', image: `img:${index}-new`, previousImage: `img:${index}` }] })) as RunPlan['waves'],
    migrations: migrations.map(([ref, afterWave]) => ({ ref, afterWave, shards: 2, batchSize: 10, backup: true })) as RunPlan['migrations'],
  };
}

const kindOf = (next: NextStage): string => (next.kind === 'wave' ? `wave ${next.request.wave}` : next.kind === 'migrate' ? `migrate ${next.migrations.map((m) => m.ref).join(',')}` : next.kind);

const stages: Array<{ name: string; plan: RunPlan; after: 'plan' | 'expand' | number; expected: string }> = [
  { name: 'planned with migrations: expand first', plan: planOf(2, [['a@1', 0]]), after: 'plan', expected: 'expand' },
  { name: 'planned without migrations: the first wave', plan: planOf(2, []), after: 'plan', expected: 'wave 0' },
  { name: 'planned with no waves and no migrations: verify', plan: planOf(0, []), after: 'plan', expected: 'verify' },
  { name: 'expanded: the first wave', plan: planOf(2, [['a@1', 1]]), after: 'expand', expected: 'wave 0' },
  { name: 'a wave without migrations after it: the next wave', plan: planOf(3, [['a@1', 2]]), after: 0, expected: 'wave 1' },
  { name: 'a wave with migrations after it: they run and the rollout stops', plan: planOf(4, [['a@1', 1], ['b@1', 3]]), after: 1, expected: 'migrate a@1' },
  { name: 'several after the same wave: all, in plan order', plan: planOf(2, [['b@1', 0], ['x@1', 1], ['a@1', 0]]), after: 0, expected: 'migrate b@1,a@1' },
  { name: 'the last wave with its migrations', plan: planOf(3, [['a@1', 0], ['b@1', 2]]), after: 2, expected: 'migrate b@1' },
  { name: 'the last wave, migrations all ran before: verify', plan: planOf(3, [['a@1', 0]]), after: 2, expected: 'verify' },
];

for (const c of stages) {
  test(`stage after ${c.after}: ${c.name}`, () => {
    const next = c.after === 'plan' ? firstStage(c.plan) : c.after === 'expand' ? afterExpand(c.plan) : afterWave(c.plan, c.after);
    assert.equal(kindOf(next), c.expected);
  });
}

const failures: Array<{ name: string; plan: RunPlan; failedWave: number; expected: string }> = [
  { name: 'rollback, no migration ran yet: revert the images only', plan: planOf(4, [['a@1', 2], ['b@1', 3]]), failedWave: 2, expected: 'revert' },
  { name: 'rollback, a migration ran after an earlier wave: restore its data first', plan: planOf(4, [['a@1', 1], ['b@1', 3]]), failedWave: 2, expected: 'restore' },
  { name: 'rollback, no migrations at all: revert', plan: planOf(1, []), failedWave: 0, expected: 'revert' },
  { name: 'freeze, even with migrated data: leave everything', plan: planOf(3, [['a@1', 0]], 'freeze'), failedWave: 2, expected: 'freeze' },
];

for (const c of failures) {
  test(`failed wave: ${c.name}`, () => {
    const outcome = onStageFailed(c.plan, { stage: 'rollout', reason: 'boom', migrationsRun: migrationsRunBefore(c.plan, c.failedWave) });
    assert.equal(outcome.kind === 'freeze' ? 'freeze' : 'restore' in outcome ? 'restore' : 'revert', c.expected);
    if (outcome.kind === 'freeze') assert.match(outcome.failed.reason, /frozen as the policy asks; workloads left as they are: boom/);
    else assert.deepEqual(outcome.cause, { stage: 'rollout', reason: 'boom' });
  });
}

test('the rollback is the done steps compensated in reverse: data first, then images newest wave first', () => {
  const done = doneSteps([2, 0, 1, 1], ['a@1']);
  assert.deepEqual(done, [{ kind: 'images', wave: 0 }, { kind: 'images', wave: 1 }, { kind: 'images', wave: 2 }, { kind: 'data', migrations: ['a@1'] }]);
  assert.deepEqual(compensations(done), [
    { kind: 'restore-data', migrations: ['a@1'] }, { kind: 'revert-images', wave: 2 }, { kind: 'revert-images', wave: 1 }, { kind: 'revert-images', wave: 0 },
  ]);
  assert.deepEqual(imageRevertOrder([0, 3, 1]), [3, 1, 0]);
  assert.deepEqual(compensations(doneSteps([], [])), []);
});

test('after the restores: the images go back, or the run fails naming the failed restores', () => {
  const cause = { stage: 'migrate' as const, reason: 'shard x failed' };
  assert.deepEqual(afterRestores('run-1', cause, { final: 4, failed: 0 }), { kind: 'revert', revert: { runId: 'run-1', stage: 'migrate', reason: 'shard x failed', restoredShards: 4 } });
  const failed = afterRestores('run-1', cause, { final: 4, failed: 2 });
  assert.equal(failed.kind, 'failed');
  assert.match(failed.kind === 'failed' ? failed.failed.reason : '', /^2 shard restore\(s\) failed; images left at their targets: shard x failed/);
});

test('after the image revert: rolled back counting the reverted workloads, or failed saying why', () => {
  const plan = planOf(3, []);
  const revert = { runId: 'run-1', stage: 'rollout' as const, reason: 'boom', restoredShards: 0 };
  const done = afterImageRevert(plan, revert, [2, 1]);
  assert.deepEqual(done, { kind: 'rolled-back', rolledBack: { runId: 'run-1', stage: 'rollout', reason: 'boom', restoredShards: 0, revertedWorkloads: 2 } });
  const failed = afterImageRevert(plan, revert, [2, 1], 'API refused');
  assert.match(failed.kind === 'failed' ? failed.failed.reason : '', /the rollback itself failed \(API refused\) after: boom/);
});

test('run statuses: final ones are never left; rolling back ends rolled back or failed', () => {
  for (const status of finalRunStatuses) for (const to of runStatuses) assert.equal(canTransition(status, to), false, `${status} → ${to}`);
  assert.equal(canTransition('running', 'rolling-back'), true);
  assert.equal(canTransition('rolling-back', 'rolled-back'), true);
  assert.equal(canTransition('rolling-back', 'completed'), false);
  assert.equal(canTransition('running', 'rolled-back'), false);
});

test('fan-in: final only when every planned shard reported, and there is one', () => {
  assert.equal(allFinal({ total: 8, final: 7, failed: 0 }), false);
  assert.equal(allFinal({ total: 8, final: 8, failed: 1 }), true);
  assert.equal(allFinal({ total: 0, final: 0, failed: 0 }), false);
});

