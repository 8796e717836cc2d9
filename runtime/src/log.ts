/**
 * Structured JSON logs (pino). Every line carries the trace id of the active span; handlers add run and
 * event ids with child loggers. Known secret-bearing fields are redacted, and config values are never
 * logged in the first place.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import { currentTraceId } from './telemetry/propagation.ts';

export type { Logger } from 'pino';

/** Field paths that could carry credentials; censored if anything ever logs them. */
const redactPaths = [
  'password', '*.password', 'connectionString', '*.connectionString', 'DATABASE_URL', '*.DATABASE_URL',
  'authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret', 'token', '*.token',
];

/** Creates the process logger for `service`. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const traceId = currentTraceId();
      return traceId ? { traceId } : {};
    },
  });
}
