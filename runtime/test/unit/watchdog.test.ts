import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onStall, type PendingEvent } from '../../src/lifecycle/watchdog.ts';

const since = Date.parse('2026-12-02T10:00:00Z');
const shard: PendingEvent = { type: 'dev.upshift.shard.requested.v1', id: 'e-7', consumer: 'migrate-shard' };

test('a stalled run with unhandled events is nudged until the limit', () => {
  assert.deepEqual(onStall({ since, pending: [shard], latestType: shard.type, nudges: 0, limit: 2 }), { kind: 'nudge', nudge: 1 });
  assert.deepEqual(onStall({ since, pending: [shard], latestType: shard.type, nudges: 1, limit: 2 }), { kind: 'nudge', nudge: 2 });
});

test('past the nudges the run fails: stuck in its stage since when, naming what is pending', () => {
  const decision = onStall({ since, pending: [shard], latestType: shard.type, nudges: 2, limit: 2 });
  assert.deepEqual(decision, { kind: 'fail', stage: 'migrate', reason: 'stuck in migrate since 2026-12-02T10:00:00.000Z: 1 event(s) not handled after 2 nudge(s): shard.requested e-7 for migrate-shard' });
});

test('nothing pending yet not ended: it fails at once, in the stage of its latest event', () => {
  const decision = onStall({ since, pending: [], latestType: 'dev.upshift.image.revert.check.v1', nudges: 0, limit: 2 });
  assert.equal(decision.kind, 'fail');
  assert.equal(decision.kind === 'fail' ? decision.stage : '', 'rollback');
  assert.match(decision.kind === 'fail' ? decision.reason : '', /no work is pending \(every event was handled\), yet the run did not end/);
});

test('a long list of pending events is cut after five', () => {
  const many = Array.from({ length: 8 }, (_, i) => ({ ...shard, id: `e-${i}` }));
  const decision = onStall({ since, pending: many, latestType: shard.type, nudges: 0, limit: 0 });
  assert.match(decision.kind === 'fail' ? decision.reason : '', /8 event\(s\) not handled after 0 nudge\(s\): (shard.requested e-\d for migrate-shard, ){4}shard.requested e-4 for migrate-shard, …$/);
});
