/**
 * The engines' one error type with a closed set of codes. migrate-shard maps them onto the runtime's
 * delivery outcomes (THROTTLED → 429, UNAVAILABLE → 503, the rest are permanent domain failures).
 */

/** The closed set of engine error codes, and whether retrying can help. */
export const migrationErrorCodes = {
  /** The catalog or a migration in it is invalid. */
  CATALOG_INVALID: { retriable: false },
  /** The catalog entry is no longer what the run planned (its checksum differs): nothing runs code nobody planned. */
  CATALOG_CHANGED: { retriable: false },
  /** The migration does not fit the real table/collection (preflight). */
  PREFLIGHT_FAILED: { retriable: false },
  /** The connection variable named by the catalog is not set. */
  CONNECTION_MISSING: { retriable: false },
  /** The store pushed back (lock timeout, statement timeout, serialization failure): retry smaller, later. */
  THROTTLED: { retriable: true },
  /** The store cannot be reached or restarted. */
  UNAVAILABLE: { retriable: true },
  /** The store refused a statement for a reason retrying will not fix. */
  STORE_REJECTED: { retriable: false },
  /** A transform module threw for a document or returned something that is not its migrated form. */
  TRANSFORM_FAILED: { retriable: false },
} as const;

/** One of the engine error codes. */
export type MigrationErrorCode = keyof typeof migrationErrorCodes;

/** The error every engine function throws (library errors are wrapped, with the original as `cause`). */
export class MigrationError extends Error {
  readonly code: MigrationErrorCode;
  readonly retriable: boolean;
  readonly migration: string | undefined;
  /** The key of the row/document the error is about, when the engine can tell. */
  readonly key: string | undefined;

  constructor(code: MigrationErrorCode, message: string, options: { cause?: unknown; migration?: string; key?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MigrationError';
    this.code = code;
    this.retriable = migrationErrorCodes[code].retriable;
    this.migration = options.migration;
    this.key = options.key;
  }
}

/** True when `error` is a MigrationError with code `code`. */
export function isMigrationError(error: unknown, code?: MigrationErrorCode): error is MigrationError {
  return error instanceof MigrationError && (code === undefined || error.code === code);
}

const throttleSqlStates = new Set(['55P03', '57014', '40001', '40P01', '53300']);
/** admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now, insufficient_resources; class 08 is matched whole. */
const unavailableSqlStates = new Set(['57P01', '57P02', '57P03', '53000']);
/**
 * node-postgres errors without a SQLSTATE that mean the connection is gone, not the statement wrong: the
 * socket closed ("Connection terminated unexpectedly"), a client used after its connection failed, a
 * connect that timed out. A batch that meets one did not commit (or committed and is found done when
 * retried); it is retried, never a row's permanent failure.
 */
const lostConnection = /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect/i;

/** Wraps a node-postgres error by SQLSTATE; messages keep the server's text but never a connection URL. */
export function wrapPostgresError(error: unknown, what: string, migration: string): MigrationError {
  if (error instanceof MigrationError) return error;
  const code = (error as { code?: unknown }).code;
  const text = error instanceof Error ? error.message : String(error);
  const message = `${what}: ${text}`;
  if (typeof code === 'string' && throttleSqlStates.has(code)) return new MigrationError('THROTTLED', message, { cause: error, migration });
  const unavailable = typeof code === 'string'
    ? unavailableSqlStates.has(code) || code.startsWith('08') || /^E[A-Z]+$/.test(code)
    : lostConnection.test(text);
  if (unavailable) return new MigrationError('UNAVAILABLE', message, { cause: error, migration });
  return new MigrationError('STORE_REJECTED', message, { cause: error, migration });
}

/**
 * Server error codes of a node that is going away or unreachable (the driver's retryable-reads set:
 * HostUnreachable, HostNotFound, NetworkTimeout, ShutdownInProgress, PrimarySteppedDown,
 * SocketException, NotWritablePrimary, InterruptedAtShutdown, InterruptedDueToReplStateChange,
 * NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary), and CursorNotFound: a shard's page cursor the
 * server forgot (restarted, connection dropped); the retried batch opens a new one from the checkpoint.
 */
const unavailableMongoCodes = new Set([6, 7, 43, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);
/** Labels the driver or server puts on an error a retry can fix. */
const unavailableMongoLabels = ['RetryableWriteError', 'ResetPool', 'TransientTransactionError', 'InterruptInUseConnections', 'PoolRequestedRetry'];

/** Wraps a MongoDB driver error: network, selection and shutdown errors are UNAVAILABLE, the rest rejected. */
export function wrapMongoError(error: unknown, what: string, migration: string): MigrationError {
  if (error instanceof MigrationError) return error;
  const cause = (error as { errorResponse?: unknown }).errorResponse;
  const name = `${error instanceof Error ? error.name : ''} ${cause instanceof Error ? cause.name : ''}`;
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  if (/Network|ServerSelection|Timeout|PoolCleared|TopologyClosed|NotConnected/.test(name) || isTransientMongoError(error)) {
    return new MigrationError('UNAVAILABLE', message, { cause: error, migration });
  }
  return new MigrationError('STORE_REJECTED', message, { cause: error, migration });
}

function isTransientMongoError(error: unknown): boolean {
  const { code, hasErrorLabel } = error as { code?: unknown; hasErrorLabel?: unknown };
  if (typeof code === 'number' && unavailableMongoCodes.has(code)) return true;
  if (typeof hasErrorLabel !== 'function') return false;
  return unavailableMongoLabels.some((label) => (hasErrorLabel as (label: string) => boolean).call(error, label));
}
