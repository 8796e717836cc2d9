/**
 * `upshift dev`: the catalogue's functions as local HTTP servers plus the dispatcher that does what
 * KafkaSources do in a cluster, until Ctrl-C. Ports N, N+1, … in catalogue order (default 8081–8084);
 * a port already taken is replaced by a free one, and what listens where is printed, so two can run
 * side by side (each on its own topic prefix: on one prefix they would share, and split, the events).
 * Functions not built yet are named and left out.
 */
import { createServer } from 'node:net';
import { catalogueFunctions, freePort, parseScale, runDev, type DevFunctionSpec, type DevRunner, type Scale } from '@upshift/runtime/dev';
import { parseCommand, topicPrefixOption, usageError as commandUsageError } from './args.ts';

/** Usage of `upshift dev`. */
export const devUsage = `Usage: upshift dev [--port-base N] [--topic-prefix p] [--scale fn=N,…] [--duplicate]

  --port-base     port of the first function, the others follow in catalogue order (default 8081:
                  plan 8081, rollout 8082, migrate-shard 8083, verify 8084); a port in use is replaced
                  by a free one; 0: free ports for all
  --topic-prefix  prefix of every topic (default: $UPSHIFT_TOPIC_PREFIX, else none); give a second
                  \`upshift dev\` on the same broker its own
  --scale         processes per function, like pods of a Knative Service behind one KafkaSource, e.g.
                  migrate-shard=4,rollout=2 (1 to 64 each; default: $UPSHIFT_DEV_SCALE): each instance
                  takes its containerConcurrency (migrate-shard 1, the others 10), deliveries go to the
                  ready instance with the fewest in flight, and one that dies is restarted; the first
                  instance listens on the function's port, the others on free ports. A function not
                  named runs as one process standing in for the whole Service
  --duplicate     deliver every event twice (exactly-once checks)
`;

const options = {
  'port-base': { type: 'string', default: '8081' },
  'topic-prefix': { type: 'string' },
  scale: { type: 'string' },
  duplicate: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const usageError = (message: string): number => commandUsageError('dev', devUsage, message);

/** Whether a function could listen on `port` of the loopback interface now. */
export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The port chosen for one function, and the port it replaces when that one was in use. */
export interface ChosenPort {
  readonly port: number;
  readonly inUse?: number;
}

/** `count` ports from `base` on, each one in use replaced by a free port (`base` 0: free ports for all). */
export async function choosePorts(base: number, count: number, isFree = portIsFree, anyFree = freePort): Promise<ChosenPort[]> {
  const chosen: ChosenPort[] = [];
  const taken = new Set<number>();
  for (let index = 0; index < count; index++) {
    const wanted = base === 0 ? undefined : base + index;
    let choice: ChosenPort | undefined = wanted !== undefined && (await isFree(wanted)) ? { port: wanted } : undefined;
    while (choice === undefined || taken.has(choice.port)) {
      choice = { port: await anyFree(), ...(wanted === undefined ? {} : { inUse: wanted }) };
    }
    taken.add(choice.port);
    chosen.push(choice);
  }
  return chosen;
}

/** What `upshift dev` prints once every function is ready (a scaled function: one line per instance, `name-N`). */
export function readyText(functions: readonly { name: string; url: string; inUse?: number; instance?: number }[], topicPrefix: string, seconds: number): string {
  const label = (fn: { name: string; instance?: number }) => (fn.instance ? `${fn.name}-${fn.instance}` : fn.name);
  const width = Math.max(0, ...functions.map((fn) => label(fn).length));
  const lines = functions.map((fn) => `  ${label(fn).padEnd(width)}  ${fn.url}${fn.inUse === undefined ? '' : `  (${fn.inUse} is in use)`}`);
  const topics = topicPrefix ? `topics ${topicPrefix}*` : 'unprefixed topics';
  const count = new Set(functions.map((fn) => fn.name)).size;
  const instances = functions.length === count ? '' : ` (${functions.length} instances)`;
  return [`upshift dev: ${count} functions${instances} ready in ${seconds.toFixed(1)}s, dispatching ${topics}`, ...lines, 'Ctrl-C stops them.', ''].join('\n');
}

function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Checks the options for `count` functions; a usage message or the settings. */
function checkOptions(values: { 'port-base': string; 'topic-prefix'?: string; scale?: string }, count: number): string | { portBase: number; topicPrefix: string; scale: Scale } {
  const portBase = Number(values['port-base']);
  if (!Number.isInteger(portBase) || portBase < 0 || portBase + count - 1 > 65535) return `--port-base must be a port number (0 for free ports), got "${values['port-base']}"`;
  const topicPrefix = topicPrefixOption(values['topic-prefix']);
  if (typeof topicPrefix !== 'string') return topicPrefix.problem;
  const scale = parseScale(values.scale ?? process.env.UPSHIFT_DEV_SCALE ?? '');
  if ('problem' in scale) return `${values.scale === undefined ? 'UPSHIFT_DEV_SCALE' : '--scale'}: ${scale.problem}`;
  return { portBase, topicPrefix, scale: scale.scale };
}

/** Runs until SIGINT/SIGTERM; exit code 0 after a clean stop. */
export async function runDevCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('dev', devUsage, args, options);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length > 0) return usageError(`unexpected argument "${parsed.positionals[0]}"`);
  const { present, missing } = catalogueFunctions(import.meta.resolve);
  const settings = checkOptions(parsed.values, present.length);
  if (typeof settings === 'string') return usageError(settings);
  if (missing.length > 0) process.stderr.write(`upshift dev: not built yet, not started: ${missing.join(', ')}\n`);
  const ports = await choosePorts(settings.portBase, present.length);
  const functions: DevFunctionSpec[] = present.map((fn, index) => ({ ...fn, port: ports[index]?.port ?? 0 }));
  const started = performance.now();
  const runner: DevRunner = await runDev({ functions, scale: settings.scale, duplicate: parsed.values.duplicate, env: { ...process.env, UPSHIFT_TOPIC_PREFIX: settings.topicPrefix } });
  const inUseOf = (name: string) => ports[present.findIndex((fn) => fn.name === name)]?.inUse;
  const ready = runner.functions.map((fn) => {
    const inUse = fn.instance === 0 ? inUseOf(fn.name) : undefined;
    return { name: fn.name, url: fn.url, instance: fn.instance, ...(inUse === undefined ? {} : { inUse }) };
  });
  process.stdout.write(readyText(ready, settings.topicPrefix, (performance.now() - started) / 1000));
  await untilStopped();
  await runner.stop();
  return 0;
}
