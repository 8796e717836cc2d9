/** A dropped connection is retriable (UNAVAILABLE, 503), whatever shape node-postgres gives it; the listener's backoff. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listenerBackoffMs } from '../../src/store/relay.ts';
import { wrapError } from '../../src/wrap-error.ts';

function serverError(code: string, severity = 'FATAL'): Error {
  return Object.assign(new Error(`server said ${code}`), { code, severity });
}

const dropped: [string, Error][] = [
  ['pg_terminate_backend of the statement in flight (57P01)', serverError('57P01')],
  ['the server crashed (57P02)', serverError('57P02')],
  ['the server is starting or stopping (57P03)', serverError('57P03')],
  ['connection does not exist (08003)', serverError('08003', 'ERROR')],
  ['the socket closed with no SQLSTATE', new Error('Connection terminated unexpectedly')],
  ['a client used after its connection failed', new Error('Client has encountered a connection error and is not queryable')],
  ['a client used after it was closed', new Error('Client was closed and is not queryable')],
  ['no connection from the pool in time', new Error('timeout exceeded when trying to connect')],
  ['the socket reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
];

for (const [name, error] of dropped) {
  test(`${name} is UNAVAILABLE (503, retried)`, () => {
    const wrapped = wrapError(error, { operation: 'transaction' });
    assert.equal(wrapped.code, 'UNAVAILABLE');
    assert.equal(wrapped.status, 503);
    assert.equal(wrapped.cause, error);
  });
}

test('a statement error that merely mentions a connection is not taken for a dropped one', () => {
  assert.equal(wrapError(serverError('42601', 'ERROR')).code, 'INTERNAL');
});

test('the listener reconnects after 50–100 ms, doubling, never waiting more than 10 s', () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => listenerBackoffMs(n, () => 1)), [100, 200, 400, 800]);
  assert.deepEqual([0, 1, 2, 3].map((n) => listenerBackoffMs(n, () => 0)), [50, 100, 200, 400]);
  assert.equal(listenerBackoffMs(7, () => 1), 10_000);
  assert.equal(listenerBackoffMs(1000, () => 1), 10_000);
  assert.equal(listenerBackoffMs(1000, () => 0), 5000);
});
