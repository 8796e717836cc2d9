/**
 * Running upshift's functions for a test: a fresh control-store database and topic prefix, the functions
 * under `upshift dev` with the dispatcher, a collector on the lifecycle topic, and publishing requests.
 */
import { createEvent, entryFor, LIFECYCLE_TOPIC, uuidv7, type AnyUpshiftEvent, type EventName, type FunctionName } from '@upshift/events';
import { functionPackage, locateFunction, runDev, type DevOptions, type DevRunner, type RetryPolicy } from '@upshift/runtime/dev';
import { publishEvents } from '../../runtime/test/support/publish.ts';
import { collect, freshDatabase, freshTopics, functionEnv, stackEnv, type Collector } from '../../runtime/test/support/stack.ts';

/** The module of a function, found by its package name as `upshift dev` finds it. */
function functionModule(name: FunctionName): string {
  const module = locateFunction(name, import.meta.resolve);
  if (!module) throw new Error(`${functionPackage(name)} is not installed or its module is not built`);
  return module;
}

/** A running test environment for a set of functions. */
export interface Harness {
  env: Record<string, string>;
  databaseUrl: string;
  prefix: string;
  lifecycle: Collector;
  dev: DevRunner;
  /** Publishes an upgrade request for `policy` (`copies` times, same event id); returns its run id. */
  request(policy: unknown, runId?: string, copies?: number): Promise<string>;
  /** Resolves with the first lifecycle event of the run whose type ends with one of `names`. */
  waitFor(runId: string, names: EventName[], timeoutMs?: number): Promise<AnyUpshiftEvent>;
  /** Every lifecycle event of a run so far, in order. */
  eventsOf(runId: string): AnyUpshiftEvent[];
  stop(): Promise<void>;
}

/** Dispatcher settings a test may change: the retry policy (default: short backoffs, many retries), concurrency per function, an outcome hook. */
export interface HarnessDevOptions {
  retry?: Partial<RetryPolicy>;
  concurrency?: Partial<Record<FunctionName, number>>;
  onOutcome?: DevOptions['onOutcome'];
}

/**
 * Starts `functions` (inline by default) against a fresh database and topic prefix. `kafkaBrokers`
 * replaces the stack's broker for everything the harness starts (topics, functions, dispatcher, the
 * lifecycle collector): a fault test's private broker.
 */
export async function startHarness(functions: FunctionName[], options: { extraEnv?: Record<string, string>; duplicate?: boolean; mode?: 'inline' | 'process'; dev?: HarnessDevOptions; kafkaBrokers?: string } = {}): Promise<Harness> {
  const env = { ...stackEnv(), ...(process.env.KUBECONFIG ? { KUBECONFIG: process.env.KUBECONFIG } : {}), ...(options.kafkaBrokers ? { KAFKA_BROKERS: options.kafkaBrokers } : {}) };
  const db = await freshDatabase(env);
  const topics = await freshTopics(env);
  const fnEnv = functionEnv(env, db.url, topics.prefix, { UPSHIFT_ROLLOUT_MAX_WAIT_MS: '1000', ...options.extraEnv });
  const dev = await runDev({
    env: fnEnv, quiet: true, duplicate: options.duplicate ?? false,
    retry: options.dev?.retry ?? { retries: 30, backoffDelayMs: 100, maxDelayMs: 1000 },
    ...(options.dev?.onOutcome ? { onOutcome: options.dev.onOutcome } : {}),
    functions: functions.map((name) => ({ name, module: functionModule(name), mode: options.mode ?? 'inline', concurrency: options.dev?.concurrency?.[name] })),
  });
  const lifecycle = await collect(env, `${topics.prefix}${LIFECYCLE_TOPIC}`);
  const eventsOf = (runId: string) => lifecycle.events().filter((e) => (e.data as { runId?: string }).runId === runId);
  return {
    env: fnEnv, databaseUrl: db.url, prefix: topics.prefix, lifecycle, dev, eventsOf,
    async request(policy, runId = uuidv7(), copies = 1) {
      const event = createEvent('upgrade.requested', { runId, policy: policy as never }, { producer: 'cli' }) as AnyUpshiftEvent;
      await publishEvents(env, topics.prefix, Array.from({ length: copies }, () => event));
      return runId;
    },
    async waitFor(runId, names, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = eventsOf(runId).find((e) => names.some((n) => e.type === entryFor(n).type));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${names.join('/')} for run ${runId} within ${timeoutMs} ms; saw ${eventsOf(runId).map((e) => e.type).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await lifecycle.stop();
      await dev.stop();
      await topics.remove();
      await db.drop();
    },
  };
}
