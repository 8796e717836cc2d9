/**
 * How the relay sorts a claimed batch (pure): rows that are not valid events or are over the limit are
 * set aside with a reason, the rest cut in order into publishes under the limit, and only a broker's
 * "too large" (never an outage) lets the relay isolate a record.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEvent } from '@upshift/events';
import { UpshiftError } from '../../src/errors.ts';
import { chunksOf, isTooLarge, sortRows, type PreparedRow } from '../../src/store/relay-records.ts';
import type { PendingOutboxRow } from '../../src/store/outbox.ts';

function row(seq: string, problems: number): PendingOutboxRow {
  const data = { runId: 'run-x', code: 'invalid-policy' as const, reason: 'r', problems: Array.from({ length: problems }, () => ({ path: 'p', message: 'm'.repeat(100) })) };
  return { seq, topic: 't.upshift.lifecycle', partitionKey: 'run-x', event: createEvent('upgrade.rejected', data, { producer: 'plan' }) as unknown as Record<string, unknown> };
}

test('rows over the limit and rows that break their known type are set aside with a reason; the rest keep their order', () => {
  const broken = { ...row('3', 1), event: { ...row('3', 1).event, data: { runId: 'run-x\n'.repeat(1000) } } };
  const newer = { seq: '5', topic: 't', partitionKey: null, event: { specversion: '1.0', type: 'dev.upshift.upgrade.rejected.v9', id: 'x' } };
  const sorted = sortRows([row('1', 1), row('2', 100), broken, row('4', 1), newer], 5000);
  assert.deepEqual(sorted.publishable.map((r) => r.seq), ['1', '4']);
  assert.deepEqual(sorted.setAside.map((r) => r.seq), ['2', '3']);
  assert.deepEqual(sorted.unknown, ['5'], 'a type this version does not know is left for a relay that does');
  assert.match(sorted.setAside[0]?.reason ?? '', /^a record of \d{5} bytes is larger than the relay's limit of 5000 bytes/);
  assert.match(sorted.setAside[1]?.reason ?? '', /^not a valid event: /);
  assert.ok(sorted.setAside.every((r) => r.reason.length <= 500 && !r.reason.includes('\n')));
  assert.ok((sorted.publishable[0]?.bytes ?? 0) > 200, 'the size counts value, key and headers');
});

test('chunks keep the order and stay under the limit; a row alone always forms a chunk', () => {
  const rows = [300, 300, 500, 900, 100, 100].map((bytes, i) => ({ seq: String(i), bytes }) as unknown as PreparedRow);
  assert.deepEqual(chunksOf(rows, 1000).map((chunk) => chunk.map((r) => r.seq)), [['0', '1'], ['2'], ['3', '4'], ['5']]);
  assert.deepEqual(chunksOf(rows, 100).map((chunk) => chunk.length), [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(chunksOf([], 1000), []);
});

test('only the broker\'s "too large" counts as too large, also when wrapped', () => {
  const tooLarge = Object.assign(new Error('The request included a message larger than the max message size'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE' });
  assert.ok(isTooLarge(tooLarge));
  assert.ok(isTooLarge(new UpshiftError('INTERNAL', 'kafka.publish failed', { cause: tooLarge })));
  assert.ok(!isTooLarge(new UpshiftError('UNAVAILABLE', 'broker down', { cause: Object.assign(new Error('x'), { name: 'KafkaJSConnectionError' }) })));
  assert.ok(!isTooLarge(new Error('MESSAGE_TOO_LARGE in a message is not a type')));
  assert.ok(!isTooLarge(undefined));
});
