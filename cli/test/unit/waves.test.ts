/** People read waves counted from 1 ("wave 1 of 3"); the events and the store keep the contract's 0-based index. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent, type AnyUpshiftEvent, type EventData, type EventName } from '@upshift/events';
import { lifecycleDescriber } from '../../src/request.ts';
import { stepKeyText, stepsTable } from '../../src/status/format.ts';
import { waveLabel, waveNumber } from '../../src/waves.ts';

const runId = 'run-1';
const ev = <N extends EventName>(name: N, data: EventData<N>): AnyUpshiftEvent =>
  createEvent(name, data as never, { producer: 'rollout', time: '2026-11-23T10:00:00.000Z' }) as AnyUpshiftEvent;
const target = (service: string) => ({ service, cluster: 'upshift-a', namespace: 'shop', workload: { kind: 'Deployment' as const, name: service }, container: service, image: `registry.local/shop/${service}:2.0.0`, previousImage: `registry.local/shop/${service}:1.0.0` });

test('wave labels count from 1, with the total when it is known', () => {
  const cases: [number, number | undefined, string][] = [[0, 3, 'wave 1 of 3'], [2, 3, 'wave 3 of 3'], [0, undefined, 'wave 1'], [1, 0, 'wave 2']];
  for (const [index, total, label] of cases) assert.equal(waveLabel(index, total), label);
  assert.equal(waveNumber(0, 2), '1 of 2');
});

test('request --wait lines count waves from 1, the total from upgrade.planned when an event does not carry it', () => {
  const describe = lifecycleDescriber();
  const planned = describe(ev('upgrade.planned', { runId, policyName: 'shop', dryRun: false, waves: [{ index: 0, targets: [target('customers')] }, { index: 1, targets: [target('orders')] }], migrations: [] }));
  assert.match(planned, /upgrade\.planned 2 waves$/);
  const completed = describe(ev('rollout.wave.completed', { runId, wave: 0, waves: 2, targets: [{ service: 'customers', cluster: 'upshift-a', image: 'registry.local/shop/customers:2.0.0', previousImage: 'registry.local/shop/customers:1.0.0' }] }));
  assert.match(completed, /rollout\.wave\.completed wave 1 of 2$/);
  const failed = describe(ev('rollout.wave.failed', { runId, wave: 1, reason: 'deadline', targets: [] }));
  assert.match(failed, /rollout\.wave\.failed wave 2 of 2 deadline$/);
  assert.match(lifecycleDescriber()(ev('rollout.wave.failed', { runId, wave: 1, reason: 'deadline', targets: [] })), /wave 2 deadline$/, 'without the plan: no total');
});

test('status: the keys of wave and revert steps count from 1, other keys are shown as stored', () => {
  assert.equal(stepKeyText({ kind: 'wave', key: '0' }, 3), '1 of 3');
  assert.equal(stepKeyText({ kind: 'revert', key: '2' }, 3), '3 of 3');
  assert.equal(stepKeyText({ kind: 'shard', key: 'orders-currency@1:0' }, 3), 'orders-currency@1:0');
  const table = stepsTable([{ kind: 'wave', key: '1', status: 'completed', attempt: 1, startedAt: new Date(0), finishedAt: new Date(5000) }], 5000, 2);
  assert.match(table, /^ {2}wave +2 of 2 +completed +1 +5s$/m);
});
