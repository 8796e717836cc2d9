/** A plan too large for one `upgrade.planned` event is refused up front, naming its size. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunPlan } from '@upshift/events';
import { plannedEventBudgetBytes, plannedEventProblem } from '../../src/core/planned-size.ts';

function planOf(targets: number, nameLength: number): RunPlan {
  const name = (i: number) => `s${i}-${'x'.repeat(nameLength)}`.slice(0, 63);
  return {
    runId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', policyName: 'big', dryRun: false,
    strategy: { maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 600, failurePolicy: 'rollback', contract: false },
    clusters: [{ name: 'a', context: 'a' }],
    waves: Array.from({ length: targets }, (_, i) => ({
      index: i,
      targets: [{ service: name(i), cluster: 'a', namespace: 'shop', workload: { kind: 'Deployment' as const, name: name(i) }, container: 'app', image: `registry.example.com/${name(i)}:2.0.0`, previousImage: `registry.example.com/${name(i)}:1.0.0` }],
    })),
    migrations: [],
  } as unknown as RunPlan;
}

test('2,000 targets with ordinary names fit in one upgrade.planned', () => {
  assert.equal(plannedEventProblem(planOf(2000, 12)), undefined);
});

test('2,000 targets with 63-character names do not fit: the problem names the count, the size and the budget', () => {
  const problem = plannedEventProblem(planOf(2000, 63));
  assert.ok(problem);
  assert.equal(problem.path, 'spec.services');
  assert.match(problem.message, new RegExp(`^the plan of 2000 \\(service, cluster\\) pairs is \\d+ bytes as upgrade.planned; at most ${plannedEventBudgetBytes} fit in one event`));
});
