/** Every error, from any library, ends as one UpshiftError code with one delivery status. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRetriableStatus } from '../../src/dev/deliver.ts';
import { backoffDelay, deliveryPolicy } from '../../src/dev/delivery-policy.ts';
import { UpshiftError, errorCodes } from '../../src/errors.ts';
import { wrapError } from '../../src/wrap-error.ts';

function pgError(code: string): Error {
  return Object.assign(new Error(`pg ${code}`), { code, severity: 'ERROR' });
}

function kafkaError(name: string, retriable: boolean): Error {
  const err = new Error(name);
  err.name = name;
  return Object.assign(err, { retriable });
}

const cases: [string, unknown, string, number][] = [
  ['serialization failure', pgError('40001'), 'CONFLICT', 409],
  ['deadlock', pgError('40P01'), 'CONFLICT', 409],
  ['unique violation', pgError('23505'), 'CONFLICT', 409],
  ['too many connections', pgError('53300'), 'THROTTLED', 429],
  ['statement timeout', pgError('57014'), 'TIMEOUT', 503],
  ['admin shutdown', pgError('57P01'), 'UNAVAILABLE', 503],
  ['connection failure class 08', pgError('08006'), 'UNAVAILABLE', 503],
  ['syntax error (a bug)', pgError('42601'), 'INTERNAL', 500],
  ['connection refused', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'UNAVAILABLE', 503],
  ['kafka retriable', kafkaError('KafkaJSNumberOfRetriesExceeded', true), 'UNAVAILABLE', 503],
  ['kafka connection', kafkaError('KafkaJSConnectionError', false), 'UNAVAILABLE', 503],
  ['kafka request timeout', kafkaError('KafkaJSRequestTimeoutError', true), 'TIMEOUT', 503],
  ['kafka non-retriable', kafkaError('KafkaJSNonRetriableError', false), 'INTERNAL', 500],
  ['a thrown string', 'oops', 'INTERNAL', 500],
];

for (const [name, thrown, code, status] of cases) {
  test(`wraps ${name} as ${code} (${status})`, () => {
    const wrapped = wrapError(thrown, { operation: 'test' });
    assert.equal(wrapped.code, code);
    assert.equal(wrapped.status, status);
    assert.equal(wrapped.context['operation'], 'test');
    if (thrown instanceof Error) assert.equal(wrapped.cause, thrown);
  });
}

test('an UpshiftError passes through unchanged', () => {
  const original = new UpshiftError('LEASE_HELD', 'held');
  assert.equal(wrapError(original), original);
});

test('every code maps to the delivery outcome of DESIGN.md', () => {
  assert.equal(errorCodes.CONTRACT_VIOLATION.status, 400);
  assert.equal(errorCodes.CONTRACT_VIOLATION.retriable, false);
  for (const code of ['CONFLICT', 'LEASE_HELD', 'STALE_FENCING_TOKEN'] as const) assert.equal(errorCodes[code].status, 409);
  assert.equal(errorCodes.THROTTLED.status, 429);
  assert.equal(errorCodes.UNAVAILABLE.status, 503);
});

test('the dispatcher retries 404/408/409/429/5xx and network errors, not 400', () => {
  assert.deepEqual([0, 404, 408, 409, 429, 500, 503].map(isRetriableStatus), [true, true, true, true, true, true, true]);
  assert.deepEqual([400, 401, 403, 413].map(isRetriableStatus), [false, false, false, false]);
});

test('backoff doubles from backoffDelay·2 (Knative: backoffDelay·2^n for retry n) and is capped', () => {
  const policy = { ...deliveryPolicy, backoffDelayMs: 100, maxDelayMs: 1000 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n)), [200, 400, 800, 1000, 1000]);
});
