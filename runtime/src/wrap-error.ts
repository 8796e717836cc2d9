/**
 * Library errors (pg SQLSTATE, kafkajs, Node network errors) become UpshiftErrors here, at the boundary,
 * so a raw library code never decides a delivery status.
 */
import { UpshiftError, isUpshiftError } from './errors.ts';
import type { ErrorCode, ErrorContext } from './errors.ts';

const networkCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

/** SQLSTATEs with a specific outcome; classes are handled in pgCode below. */
const sqlStates: Readonly<Record<string, ErrorCode>> = {
  '40001': 'CONFLICT', // serialization_failure
  '40P01': 'CONFLICT', // deadlock_detected
  '23505': 'CONFLICT', // unique_violation (e.g. an active run already exists)
  '55P03': 'CONFLICT', // lock_not_available
  '53300': 'THROTTLED', // too_many_connections
  '57014': 'TIMEOUT', // query_canceled (statement_timeout)
  '57P01': 'UNAVAILABLE', // admin_shutdown
  '57P02': 'UNAVAILABLE', // crash_shutdown
  '57P03': 'UNAVAILABLE', // cannot_connect_now
};

function pgCode(sqlState: string): ErrorCode {
  const exact = sqlStates[sqlState];
  if (exact) return exact;
  if (sqlState.startsWith('08')) return 'UNAVAILABLE'; // connection exception
  if (sqlState.startsWith('53')) return 'THROTTLED'; // insufficient resources
  return 'INTERNAL';
}

function codeOf(err: Error & { code?: unknown; retriable?: unknown }): ErrorCode {
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (code && /^[0-9A-Z]{5}$/.test(code) && 'severity' in err) return pgCode(code);
  if (code && networkCodes.has(code)) return 'UNAVAILABLE';
  if (err.name.startsWith('KafkaJS')) {
    if (err.name === 'KafkaJSRequestTimeoutError') return 'TIMEOUT';
    return err.retriable === true || err.name === 'KafkaJSConnectionError' ? 'UNAVAILABLE' : 'INTERNAL';
  }
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return 'TIMEOUT';
  if (lostConnection.test(err.message)) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/**
 * node-postgres errors without a SQLSTATE that mean the connection is gone, not the statement wrong:
 * the socket closed (pg_terminate_backend, failover: "Connection terminated unexpectedly"), a client
 * used after its connection failed or ended, a pool that could not connect in time.
 */
const lostConnection = /timeout exceeded when trying to connect|Connection terminated|connection error and is not queryable|Client was closed and is not queryable/i;

/** Wraps any thrown value into an UpshiftError; UpshiftErrors pass through unchanged. */
export function wrapError(err: unknown, context: ErrorContext = {}): UpshiftError {
  if (isUpshiftError(err)) return err;
  if (!(err instanceof Error)) return new UpshiftError('INTERNAL', String(err), { context });
  const code = codeOf(err as Error & { code?: unknown });
  const libraryCode = (err as { code?: unknown }).code;
  return new UpshiftError(code, err.message, {
    cause: err,
    context: { ...context, library: err.name, ...(typeof libraryCode === 'string' ? { libraryCode } : {}) },
  });
}

/** Runs `fn` and rethrows any failure as an UpshiftError: use it around every library call. */
export async function atBoundary<T>(context: ErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrapError(err, context);
  }
}
