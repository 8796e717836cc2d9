import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent, type AnyUpshiftEvent, type EventData, type EventName } from '@upshift/events';
import { demoSucceeded, renderSummary, restoredRows, type DemoReport } from '../../src/demo/summary.ts';
import { applyEvents, emptyView, type RunView } from '../../src/watch/state.ts';

const runId = 'run-1';
let seq = 0;
const ev = <N extends EventName>(name: N, data: EventData<N>): AnyUpshiftEvent => createEvent(name, data, { producer: 'verify', id: `e-${++seq}` }) as AnyUpshiftEvent;
const target = (service: string) => ({
  service, cluster: 'upshift-a', namespace: 'shop', workload: { kind: 'Deployment' as const, name: service }, container: service,
  image: `registry.local/shop/${service}:2.0.0`, previousImage: `registry.local/shop/${service}:1.0.0`,
});
const customers = { ref: 'customers-profile@1', store: 'mongodb' as const, shards: 2, batchSize: 200, backup: true, afterWave: 0 };
const orders = { ref: 'orders-currency@1', store: 'postgres' as const, shards: 2, batchSize: 500, backup: true, afterWave: 1 };
const shardId = (i: number) => `${runId}:customers-profile@1:${i}`;

/** The --fail story: customers migrated after wave 1, the orders wave fails, the customers are restored. */
function failedRun(restore: boolean): RunView {
  return applyEvents(emptyView(runId), [
    ev('upgrade.planned', { runId, policyName: 'shop', dryRun: false, waves: [{ index: 0, targets: [target('customers')] }, { index: 1, targets: [target('orders')] }], migrations: [orders, customers] }),
    ...[0, 1].map((i) => ev('shard.completed', { runId, shardId: shardId(i), migration: customers.ref, rowsMigrated: 1000, batches: 5, durationMs: 10 })),
    ev('rollout.wave.failed', { runId, wave: 1, reason: 'orders in upshift-a: deadline', targets: [{ service: 'orders', cluster: 'upshift-a', reason: 'deadline' }] }),
    ...(restore ? [0, 1].map((i) => ev('shard.restore.done', { runId, shardId: shardId(i), migration: customers.ref, outcome: 'restored', rowsRestored: 1000 })) : []),
    ev('upgrade.rolled-back', { runId, stage: 'rollout', reason: 'orders in upshift-a: deadline', restoredShards: restore ? 2 : 0, revertedWorkloads: 2 }),
  ]);
}

const sum = { count: 2000, digest: 'abc', versions: { 1: 2000 } };
const report = (view: RunView): DemoReport => ({
  view, fail: true, timings: {}, traceId: undefined, jaegerUrl: undefined,
  images: [{ cluster: 'upshift-a', name: 'customers', before: 'c:1', now: 'c:1', available: true }],
  data: [{ label: 'PostgreSQL shop.orders', migration: orders.ref, before: sum, after: sum }, { label: 'MongoDB crm.customers', migration: customers.ref, before: sum, after: sum }],
});

test('demo --fail: OK when the customers were migrated, then restored, and images and checksums are as before', () => {
  const r = report(failedRun(true));
  assert.equal(restoredRows(r.view, customers.ref), 2000);
  assert.equal(demoSucceeded(r), true);
  const text = renderSummary(r);
  assert.match(text, /customers-profile@1 +2\/2 shards migrated, then restored: 2,000 documents put back \(after wave 1 of 2\)/);
  assert.match(text, /orders-currency@1 +0\/2 shards, 0 rows migrated \(after wave 2 of 2\), never started/);
  assert.match(text, /MongoDB crm\.customers\n.*\n.*\n {4}EQUAL: migrated by customers-profile@1, then restored \(2,000 put back\): the data is exactly as before the run/);
  assert.match(text, /demo: OK \(the orders wave failed after MongoDB crm\.customers \(customers-profile@1, 2,000 restored\) had been migrated; rolled back automatically: data restored \(checksums before = after\), images reverted\)/);
});

test('demo --fail: NOT OK when no migrated data was restored (nothing was migrated before the failure)', () => {
  const r = report(failedRun(false));
  assert.equal(demoSucceeded(r), false);
  assert.match(renderSummary(r), /demo: NOT OK \(the orders wave failed before any migration had run: nothing to restore; see above\)/);
});

test('demo --fail with the application writing: the documents it did not write compare, its writes are counted, conflicts come from the restores', () => {
  const view = applyEvents(failedRun(false), [0, 1].map((i) => ev('shard.restore.done', {
    runId, shardId: shardId(i), migration: customers.ref, outcome: 'restored', rowsRestored: 990, conflicts: 3, created: 0, createdReverted: 0,
    findings: [{ key: `"c000000${i}"`, column: 'profile.phone', kind: 'changed', decision: 'kept', written: '"+49 30 1"', found: '"+49 40 7"' }],
  })));
  const changed = { count: 2000, digest: 'zzz', versions: { 1: 2000 } };
  const untouched = { count: 1900, digest: 'same', versions: { 1: 1900 } };
  const base = report(view);
  const r: DemoReport = {
    ...base,
    data: [base.data[0]!, { label: 'MongoDB crm.customers', migration: customers.ref, before: sum, after: changed, untouched: { before: untouched, after: untouched } }],
    writes: { written: 400, kept: 400, lost: 0, conflicts: 6 },
  };
  assert.equal(demoSucceeded(r), true, 'whole checksums differ (the application wrote), the untouched ones are equal');
  const text = renderSummary(r);
  assert.match(text, /application writes during the run: 400, kept 400, conflicts 6 \(listed with `upshift status`\), lost 0/);
  assert.match(text, /EQUAL: migrated by customers-profile@1, then restored \(1,980 put back\): the documents the application did not write are exactly as before the run/);
  assert.equal(demoSucceeded({ ...r, writes: { written: 400, kept: 399, lost: 1, conflicts: 6 } }), false, 'one lost write fails the demo');
  assert.equal(demoSucceeded({ ...r, data: [base.data[0]!, { ...r.data[1]!, untouched: { before: untouched, after: changed } }] }), false, 'a changed untouched document fails it');
});
