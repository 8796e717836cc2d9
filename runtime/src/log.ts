/**
 * Structured JSON logs (pino). Every line carries the trace id of the active span; handlers add run and
 * event ids with child loggers. Config values are never logged in the first place, and everything a log
 * call or a child logger is handed is redacted first (redact.ts): passwords in any text at any depth
 * (messages, Error messages, stacks and causes included), secret-looking keys as a whole.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { redactSecrets } from './redact.ts';
import { currentTraceId } from './telemetry/propagation.ts';

export type { Logger } from 'pino';

/** Creates the process logger for `service` (writing to stdout unless a `destination` is given, e.g. in tests). */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      logMethod(args, method) {
        return method.apply(this, redactSecrets(args) as Parameters<typeof method>);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const traceId = currentTraceId();
      return traceId ? { traceId } : {};
    },
  };
  return withRedactedChildBindings(destination ? pino(options, destination) : pino(options));
}

/**
 * pino serializes a child's bindings once, when the child is made, without the log hooks; children
 * inherit `child` from the root logger, so redacting here covers children of children too.
 */
function withRedactedChildBindings(logger: Logger): Logger {
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return child.call(this, redactSecrets(bindings), childOptions);
  } as Logger['child'];
  return logger;
}
