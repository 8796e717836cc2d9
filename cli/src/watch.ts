/**
 * `upshift watch <run>`: a live view of one run — stage, each wave's workloads, a progress bar per
 * migration (shards, rows/s, ETA), failures as they happen — from the lifecycle topic and the control
 * store. Exits 0 when the run completed (or a dry run was planned), 1 when it failed, rolled back or was
 * rejected, or on --timeout.
 */
import { parseCommand, topicPrefixOption, usageError as commandUsageError } from './args.ts';
import { brokersFrom, RunId } from '@upshift/events';
import { colourEnabled, jaegerUiUrl, paintFrame, stdoutColours, terminalRedraws } from './colour.ts';
import { followRun, type DisplayMode } from './watch/follow.ts';

/** Usage of `upshift watch`. */
export const watchUsage = `Usage: upshift watch <run-id> [--brokers host:port,...] [--database-url url] [--topic-prefix p] [--json] [--timeout seconds]

  --brokers       Kafka bootstrap brokers (default: $KAFKA_BROKERS)
  --database-url  the control store, for runs started earlier or already finished (default: $DATABASE_URL)
  --topic-prefix  topic prefix the functions use (default: $UPSHIFT_TOPIC_PREFIX, else none)
  --json          one JSON document per change instead of the text view
  --timeout       give up after this many seconds (exit 1)

The view links the run's trace in Jaeger ($JAEGER_UI_URL, else $JAEGER_QUERY_URL). On a terminal it is
redrawn in place and coloured; with TERM=dumb, NO_COLOR or a pipe: plain changed lines, no escape codes.
Brokers and control store default to the local stack's context file when no flag or variable is set.

Exit codes: 0 the run completed (or a dry run was planned), 1 it failed, rolled back, was rejected or
did not end in time, 2 usage error.
`;

const options = {
  brokers: { type: 'string' },
  'database-url': { type: 'string' },
  'topic-prefix': { type: 'string' },
  json: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const usageError = (message: string): number => commandUsageError('watch', watchUsage, message);

/** The display mode: JSON when asked, a redrawn screen on a terminal that takes cursor codes, changed lines otherwise. */
export function displayModeFor(json: boolean, isTty: boolean, env: Readonly<NodeJS.ProcessEnv> = {}): DisplayMode {
  return json ? 'json' : terminalRedraws(env, isTty) ? 'tty' : 'lines';
}

/** Runs `upshift watch`; returns the exit code. */
export async function runWatch(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('watch', watchUsage, args, options);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const runId = positionals[0];
  if (positionals.length !== 1 || runId === undefined) return usageError('expected exactly one run id');
  if (!RunId.safeParse(runId).success) return usageError(`"${runId}" is not a run id`);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) return usageError(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
  const topicPrefix = topicPrefixOption(values['topic-prefix']);
  if (typeof topicPrefix !== 'string') return usageError(topicPrefix.problem);
  const brokers = brokersFrom(values.brokers ?? process.env.KAFKA_BROKERS);
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  if (brokers.length === 0 && !databaseUrl) return usageError('no Kafka brokers and no control store: pass --brokers or --database-url (or set KAFKA_BROKERS / DATABASE_URL)');
  const mode = displayModeFor(values.json, process.stdout.isTTY === true, process.env);
  const colours = stdoutColours();
  const paint = mode !== 'json' && colourEnabled(process.env, process.stdout.isTTY === true);
  const jaegerUrl = jaegerUiUrl();
  const view = await followRun({
    runId, brokers, topicPrefix, ...(databaseUrl ? { databaseUrl } : {}), ...(jaegerUrl ? { jaegerUrl } : {}), mode,
    write: (text) => process.stdout.write(paint ? paintFrame(colours, text) : text),
    ...(timeout === undefined ? {} : { timeoutMs: timeout * 1000 }),
  });
  if (!view.outcome) {
    process.stderr.write(`upshift watch: run ${runId} did not end within ${timeout ?? '?'}s\n`);
    return 1;
  }
  return view.outcome.success ? 0 : 1;
}
