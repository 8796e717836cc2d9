import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContractViolation, createEvent, entryFor, fixture } from '../../src/index.ts';

const runId = '019ab1c2-7d3e-7a41-9b2c-5e8f0a1d2c3b';
const controlId = '0f5b7c1e-2d4a-4c8e-9a6b-3e1f2a7d9c40';

test('a control request goes to verify, keyed by the run (the controls of one run stay in order)', () => {
  const entry = entryFor('run.control.requested');
  assert.equal(entry.consumer, 'verify');
  assert.equal(entry.topic, 'upshift.verify');
  assert.equal(entry.keyField, 'runId');
  const event = createEvent('run.control.requested', { runId, controlId, action: 'pause', requestedBy: 'ana@ops' }, { producer: 'dashboard' });
  assert.equal(event.partitionkey, runId);
  assert.equal(event.source, '/upshift/dashboard');
});

test('what came of a control is a public lifecycle event', () => {
  const entry = entryFor('run.control.applied');
  assert.equal(entry.lifecycle, true);
  assert.equal(fixture('run.control.applied').data.state.throttle?.rowsPerSecond, 2000);
});

test('a control request is bounded: action, throttle ranges, target shape, who asked', () => {
  const base = { runId, controlId, requestedBy: 'ana@ops' };
  const refused = [
    { ...base, action: 'explode' },
    { ...base, action: 'throttle', throttle: { rowsPerSecond: 0 } },
    { ...base, action: 'throttle', throttle: { batchSize: 100_001 } },
    { ...base, action: 'throttle', throttle: { pauseMs: 600_001 } },
    { ...base, action: 'retry', target: { kind: 'wave', wave: -1 } },
    { ...base, action: 'retry', target: { kind: 'shard', shardId: 'not a shard' } },
    { ...base, action: 'pause', requestedBy: '' },
    { ...base, action: 'pause', requestedBy: 'x'.repeat(201) },
    { ...base, action: 'pause', reason: 'x'.repeat(501) },
    { ...base, action: 'pause', controlId: 'not-a-uuid' },
  ];
  for (const data of refused) {
    assert.throws(() => createEvent('run.control.requested', data as never, { producer: 'cli' }), ContractViolation, JSON.stringify(data).slice(0, 120));
  }
  const accepted = createEvent('run.control.requested', { ...base, action: 'retry', target: { kind: 'shard', shardId: `${runId}:orders-currency@1:0` } }, { producer: 'cli' });
  assert.equal(accepted.data.target?.kind, 'shard');
  assert.deepEqual(createEvent('run.control.requested', { ...base, action: 'throttle', throttle: {} }, { producer: 'cli' }).data.throttle, {});
});
