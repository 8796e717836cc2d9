/**
 * Structured JSON logs (pino). Every line inside a span carries `trace_id`, `span_id` and `trace_flags`
 * (the OpenTelemetry log-correlation field names, as the OTel log bridges write them); handlers add run and
 * event ids with child loggers. Config values are never logged in the first place, and everything a log
 * call or a child logger is handed is redacted first (redact.ts): passwords in any text at any depth
 * (messages, Error messages, stacks and causes included), secret-looking keys as a whole.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { redactSecrets } from './redact.ts';
import { currentSpanContext } from './telemetry/propagation.ts';

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
      const span = currentSpanContext();
      return span ? { trace_id: span.traceId, span_id: span.spanId, trace_flags: `0${span.traceFlags.toString(16)}`.slice(-2) } : {};
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
