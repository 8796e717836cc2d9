import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findingLine, printable, renderFrame, viewToJson } from '../../src/watch/render.ts';
import { applyEvents, emptyView } from '../../src/watch/state.ts';
import { createEvent, type AnyUpshiftEvent } from '@upshift/events';

const runId = 'run-9';
const restored = (index: number, key: string): AnyUpshiftEvent => createEvent('shard.restore.done', {
  runId, shardId: `${runId}:orders-currency@1:${index}`, migration: 'orders-currency@1', outcome: 'restored', rowsRestored: 10, conflicts: 2, created: 1, createdReverted: 1,
  findings: [
    { key, column: 'amount_minor', kind: 'changed', decision: 'kept', written: '1234', found: '999' },
    { key: '77', column: '*', kind: 'created', decision: 'reverted', written: null, found: '{"currency": "USD"}' },
  ],
}, { producer: 'migrate-shard', id: `r-${index}` }) as AnyUpshiftEvent;

test('restore findings: summed per migration, listed by key and column, in the frame and in --json', () => {
  const planned = createEvent('upgrade.planned', {
    runId, policyName: 'shop', dryRun: false, waves: [],
    migrations: [{ ref: 'orders-currency@1', store: 'postgres', shards: 2, batchSize: 500, backup: true, afterWave: 0 }],
  }, { producer: 'plan', id: 'p-1' }) as AnyUpshiftEvent;
  const view = applyEvents(emptyView(runId), [planned, restored(0, '17'), restored(1, '18')]);
  const frame = renderFrame(view, 0);
  assert.match(frame, /orders-currency@1 .* 4 conflicts {2}2 created by the new version \(2 reverted\)/);
  assert.match(frame, /rollback findings\n {2}orders-currency@1 key 17 amount_minor: kept the application's value: wrote 1234, found 999/);
  assert.match(frame, /key 77 \*: created by the new version: reverted to the old form/);
  const json = viewToJson(view) as { migrations: Array<{ restore: { conflicts: number; created: number; rowsRestored: number; findings: unknown[] } }> };
  assert.deepEqual({ ...json.migrations[0]?.restore, findings: json.migrations[0]?.restore.findings.length }, { rowsRestored: 20, conflicts: 4, created: 2, createdReverted: 2, findings: 4 });
});

test('restore findings: application data reaches the terminal escaped and bounded', () => {
  const hostile = 'x\u001b[2J\u202eevil\nline';
  assert.equal(printable(hostile), 'x\\x1b[2J\\u202eevil\\nline');
  assert.equal(printable('a'.repeat(500), 10), `${'a'.repeat(10)}...`);
  const line = findingLine('orders-currency@1', { key: hostile, column: 'c', kind: 'changed', decision: 'kept', written: '"\u001b[31m"', found: '"\u2066"' });
  const raw = [...line].filter((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f) || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069'));
  assert.deepEqual(raw, [], 'no control or bidi character is printed raw');
});
