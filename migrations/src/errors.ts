/**
 * The engines' one error type with a closed set of codes. migrate-shard maps them onto the runtime's
 * delivery outcomes (THROTTLED → 429, UNAVAILABLE → 503, the rest are permanent domain failures).
 */

/** The closed set of engine error codes, and whether retrying can help. */
export const migrationErrorCodes = {
  /** The catalog or a migration in it is invalid. */
  CATALOG_INVALID: { retriable: false },
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
const unavailableSqlStates = new Set(['57P01', '57P02', '57P03', '53000', '08000', '08003', '08006', '08001', '08004']);

/** Wraps a node-postgres error by SQLSTATE; messages keep the server's text but never a connection URL. */
export function wrapPostgresError(error: unknown, what: string, migration: string): MigrationError {
  if (error instanceof MigrationError) return error;
  const code = (error as { code?: unknown }).code;
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  if (typeof code === 'string' && throttleSqlStates.has(code)) return new MigrationError('THROTTLED', message, { cause: error, migration });
  if (typeof code === 'string' && (unavailableSqlStates.has(code) || /^E[A-Z]+$/.test(code))) {
    return new MigrationError('UNAVAILABLE', message, { cause: error, migration });
  }
  return new MigrationError('STORE_REJECTED', message, { cause: error, migration });
}

/** Wraps a MongoDB driver error: network and selection errors are UNAVAILABLE, the rest rejected. */
export function wrapMongoError(error: unknown, what: string, migration: string): MigrationError {
  if (error instanceof MigrationError) return error;
  const cause = (error as { errorResponse?: unknown }).errorResponse;
  const name = `${error instanceof Error ? error.name : ''} ${cause instanceof Error ? cause.name : ''}`;
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  if (/Network|ServerSelection|Timeout|PoolCleared/.test(name)) return new MigrationError('UNAVAILABLE', message, { cause: error, migration });
  return new MigrationError('STORE_REJECTED', message, { cause: error, migration });
}
