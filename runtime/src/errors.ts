/**
 * One error type for every function, with a closed set of codes. Each code maps to exactly one delivery
 * outcome (HTTP status the KafkaSource / dispatcher acts on), so no library code ever leaks into a status.
 */
import { redactCredentials, redactSecrets } from './redact.ts';

/** The closed set of error codes and the delivery outcome of each. */
export const errorCodes = {
  /** The event does not match its contract: never retried, dead-lettered. */
  CONTRACT_VIOLATION: { status: 400, retriable: false },
  /** A concurrent change or uniqueness rule won; retrying later sees the new state. */
  CONFLICT: { status: 409, retriable: true },
  /** Someone else holds the lease for this target; retry after it expires. */
  LEASE_HELD: { status: 409, retriable: true },
  /** A write carried a fencing token older than the lease's current one: we lost the lease. */
  STALE_FENCING_TOKEN: { status: 409, retriable: true },
  /** A dependency asked us to slow down (pool exhausted, database under pressure). */
  THROTTLED: { status: 429, retriable: true },
  /** Transient infrastructure failure (network, broker, database restart). */
  UNAVAILABLE: { status: 503, retriable: true },
  /** A deadline passed before the dependency answered. */
  TIMEOUT: { status: 503, retriable: true },
  /** Start-up configuration is missing or malformed. */
  CONFIG_INVALID: { status: 500, retriable: false },
  /** A bug or an error nobody classified; retried by delivery, then dead-lettered. */
  INTERNAL: { status: 500, retriable: true },
} as const;

/** One of the closed set of error codes. */
export type ErrorCode = keyof typeof errorCodes;

/** Extra facts about an error, safe to log (never secrets). */
export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * The only error type handlers and adapters throw. Its message and context are redacted (no password
 * of a URL or connection string quoted by a library survives), since they end up in event reasons,
 * HTTP bodies and logs; the cause keeps the library's error as it was (loggers redact it themselves).
 */
export class UpshiftError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(redactCredentials(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpshiftError';
    this.code = code;
    this.retriable = errorCodes[code].retriable;
    this.context = redactSecrets(options.context ?? {});
  }

  /** The HTTP status this error is delivered as. */
  get status(): number {
    return errorCodes[this.code].status;
  }

  /** A JSON body for the HTTP response and logs (no stack, no cause internals). */
  toJSON(): { code: ErrorCode; message: string; retriable: boolean; context: ErrorContext } {
    return { code: this.code, message: this.message, retriable: this.retriable, context: this.context };
  }
}

/** True when `value` is an UpshiftError (also across module copies). */
export function isUpshiftError(value: unknown): value is UpshiftError {
  return value instanceof UpshiftError || (value instanceof Error && value.name === 'UpshiftError' && 'code' in value);
}

/** The HTTP status an error code is delivered as. */
export function statusFor(code: ErrorCode): number {
  return errorCodes[code].status;
}
