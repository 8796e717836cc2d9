/**
 * Engine errors of a dropped or unreachable store are UNAVAILABLE (retried by delivery, the shard resumes
 * from its checkpoint), never STORE_REJECTED (which would narrow the page down to a row and fail the shard).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MongoErrorLabel, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { wrapMongoError, wrapPostgresError } from '../../src/errors.ts';

const sqlError = (code: string, message = `server said ${code}`) => Object.assign(new Error(message), { code, severity: 'FATAL' });

const postgres: [string, unknown, string][] = [
  ['pg_terminate_backend (57P01)', sqlError('57P01', 'terminating connection due to administrator command'), 'UNAVAILABLE'],
  ['crash shutdown (57P02)', sqlError('57P02'), 'UNAVAILABLE'],
  ['cannot connect now (57P03)', sqlError('57P03'), 'UNAVAILABLE'],
  ['any connection exception (class 08)', sqlError('08P01'), 'UNAVAILABLE'],
  ['the socket closed, no SQLSTATE', new Error('Connection terminated unexpectedly'), 'UNAVAILABLE'],
  ['a client used after its connection failed', new Error('Client has encountered a connection error and is not queryable'), 'UNAVAILABLE'],
  ['no connection in time', new Error('timeout exceeded when trying to connect'), 'UNAVAILABLE'],
  ['connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'UNAVAILABLE'],
  ['lock timeout', sqlError('55P03'), 'THROTTLED'],
  ['a check constraint', sqlError('23514', 'new row violates check constraint'), 'STORE_REJECTED'],
  ['an error without a code that is about the statement', new Error('bind message supplies 1 parameters, but prepared statement requires 2'), 'STORE_REJECTED'],
];

for (const [name, error, code] of postgres) {
  test(`PostgreSQL: ${name} is ${code}`, () => {
    const wrapped = wrapPostgresError(error, 'orders-currency@1: running a batch', 'orders-currency@1');
    assert.equal(wrapped.code, code);
    assert.equal(wrapped.retriable, code !== 'STORE_REJECTED');
    assert.equal(wrapped.cause, error);
  });
}

const serverError = (code: number, labels: string[] = []) => {
  const error = new MongoServerError({ ok: 0, code, errmsg: `server said ${code}` });
  for (const label of labels) error.addErrorLabel(label);
  return error;
};

/** The topology a selection error describes (not read by the wrapping). */
const noTopology = { servers: new Map(), error: undefined } as unknown as ConstructorParameters<typeof MongoServerSelectionError>[1];

const mongo: [string, unknown, string][] = [
  ['a network error (connection dropped)', new MongoNetworkError('connection 3 to 127.0.0.1:27117 closed'), 'UNAVAILABLE'],
  ['no server to select', new MongoServerSelectionError('Server selection timed out after 10000 ms', noTopology), 'UNAVAILABLE'],
  ['the server shutting down (InterruptedAtShutdown)', serverError(11600), 'UNAVAILABLE'],
  ['a cursor the server forgot (CursorNotFound)', serverError(43), 'UNAVAILABLE'],
  ['an error labelled retryable by the server', serverError(1, ['RetryableWriteError']), 'UNAVAILABLE'],
  ['an operation whose pool was cleared (the driver\'s PoolRequestedRetry label)', serverError(1, [MongoErrorLabel.PoolRequestedRetry]), 'UNAVAILABLE'],
  ['a validation failure', serverError(121), 'STORE_REJECTED'],
];

for (const [name, error, code] of mongo) {
  test(`MongoDB: ${name} is ${code}`, () => {
    assert.equal(wrapMongoError(error, 'customers-profile@1: running a batch', 'customers-profile@1').code, code);
  });
}
