/**
 * `upshift dashboard`: the live web dashboard (@upshift/dashboard) on 127.0.0.1:8090 unless told
 * otherwise, until Ctrl-C. Controls need UPSHIFT_DASHBOARD_TOKEN (or --no-auth, loopback only);
 * --read-only hides and refuses them.
 */
import { randomBytes } from 'node:crypto';
import { parseCommand, topicPrefixOption, usageError as commandUsageError } from './args.ts';
import { line } from './escape.ts';

/** Usage of `upshift dashboard`. */
export const dashboardUsage = `Usage: upshift dashboard [--port 8090] [--host 127.0.0.1] [--read-only] [--no-auth]
                         [--database-url url] [--brokers host:port,...] [--topic-prefix p]

  --port          port to listen on (default 8090; 0 picks a free one)
  --host          address to listen on (default 127.0.0.1; anything else only behind the cluster's auth)
  --read-only     show runs, hide the controls and refuse control requests
  --no-auth       allow controls without a token (local use only: needs a loopback --host)
  --database-url  the control store (default: $DATABASE_URL)
  --brokers       Kafka brokers the controls are published to (default: $KAFKA_BROKERS; none: read-only)
  --topic-prefix  topic prefix the functions use (default: $UPSHIFT_TOPIC_PREFIX, else none)

Controls (pause, resume, throttle, abort) need the token in $UPSHIFT_DASHBOARD_TOKEN (at least 16
characters): the page asks for it once per tab. Trace links go to $JAEGER_UI_URL (else $JAEGER_QUERY_URL).
`;

const options = {
  port: { type: 'string' },
  host: { type: 'string' },
  'read-only': { type: 'boolean', default: false },
  'no-auth': { type: 'boolean', default: false },
  'database-url': { type: 'string' },
  brokers: { type: 'string' },
  'topic-prefix': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Runs `upshift dashboard` until SIGINT/SIGTERM; returns the exit code. */
export async function runDashboard(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('dashboard', dashboardUsage, args, options);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const usageError = (message: string): number => commandUsageError('dashboard', dashboardUsage, message);
  if (positionals.length > 0) return usageError('takes no arguments');
  const topicPrefix = topicPrefixOption(values['topic-prefix']);
  if (typeof topicPrefix !== 'string') return usageError(topicPrefix.problem);
  // Loaded here: the other commands do not pay for the dashboard's server.
  const { parseDashboardConfig, settingsFromEnv, startDashboard } = await import('@upshift/dashboard');
  const env = settingsFromEnv(process.env);
  const config = parseDashboardConfig({
    ...env, topicPrefix, readOnly: values['read-only'], noAuth: values['no-auth'],
    ...(values.port === undefined ? {} : { port: values.port }), ...(values.host === undefined ? {} : { host: values.host }),
    ...(values['database-url'] === undefined ? {} : { databaseUrl: values['database-url'] }),
    ...(values.brokers === undefined ? {} : { brokers: values.brokers.split(',').map((b) => b.trim()).filter((b) => b !== '') }),
  });
  if (!config.ok) return usageError(config.problems.join('; '));
  const dashboard = await startDashboard(config.config);
  const controls = config.config.readOnly ? 'read-only' : config.config.token ? 'controls need the token' : config.config.noAuth ? 'controls without a token (--no-auth)' : 'controls off (no UPSHIFT_DASHBOARD_TOKEN)';
  process.stdout.write(line(`upshift dashboard: ${dashboard.url} (${controls}); Ctrl-C stops it`));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dashboard.close();
  return 0;
}

/** A dashboard started by the demo: its page for a run (with the token handed over) and its end. */
export interface DemoDashboard {
  pageOf(runId: string): string;
  close(): Promise<void>;
}

/**
 * The demo's dashboard: loopback, port 8090 (a free one when that is taken), controls on with a token
 * made for this demo only (handed to the page in the address fragment, which is never sent to a server).
 */
export async function startDemoDashboard(env: Readonly<Record<string, string | undefined>>, topicPrefix: string): Promise<DemoDashboard> {
  const { parseDashboardConfig, settingsFromEnv, startDashboard } = await import('@upshift/dashboard');
  const token = randomBytes(24).toString('base64url');
  const start = async (port: number) => {
    const config = parseDashboardConfig({ ...settingsFromEnv({ ...process.env, ...env }), topicPrefix, token, port });
    if (!config.ok) throw new Error(`dashboard settings: ${config.problems.join('; ')}`);
    return startDashboard(config.config, { log: () => undefined });
  };
  const dashboard = await start(8090).catch((error: unknown) => {
    if ((error as { code?: string }).code === 'EADDRINUSE') return start(0);
    throw error;
  });
  return { pageOf: (runId) => `${dashboard.url}runs/${runId}#token=${token}`, close: () => dashboard.close() };
}
