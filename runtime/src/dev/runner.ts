/**
 * `upshift dev`: creates the catalogue topics, starts the functions as local HTTP servers and runs the
 * dispatcher (what KafkaSources do in the cluster). The CLI calls `runDev` (or `devCommand`).
 */
import { z } from 'zod';
import { HostConfig, parseConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import type { Logger } from '../log.ts';
import { createKafka } from '../transport/kafka.ts';
import { KafkaSecurityVariables, kafkaSecurity } from '../transport/kafka-security.ts';
import { ensureCatalogueTopics } from '../transport/topics.ts';
import { catalogueFunctions } from './catalogue-functions.ts';
import type { DeliveryOutcome } from './deliver.ts';
import { CONCURRENCY_VARIABLE, functionLimits } from './delivery-policy.ts';
import type { RetryPolicy } from './delivery-policy.ts';
import { Dispatcher } from './dispatcher.ts';
import type { DispatchTarget } from './dispatcher.ts';
import { startFunction } from './functions.ts';
import type { DevFunctionSpec, StartedFunction } from './functions.ts';

/** What the dev runner itself needs from the environment (functions parse their own). */
export const DevConfig = z.object({
  KAFKA_BROKERS: HostConfig.shape.KAFKA_BROKERS,
  LOG_LEVEL: HostConfig.shape.LOG_LEVEL,
  UPSHIFT_TOPIC_PREFIX: HostConfig.shape.UPSHIFT_TOPIC_PREFIX,
  ...KafkaSecurityVariables,
});

/** Options of runDev. */
export interface DevOptions {
  readonly functions: readonly DevFunctionSpec[];
  /** Environment for the runner and the functions (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Deliver every event twice (fault tests). */
  readonly duplicate?: boolean;
  /** Overrides of the shared `deliveryPolicy` (tests). */
  readonly retry?: Partial<RetryPolicy>;
  /** Silence the functions' stdout (tests). */
  readonly quiet?: boolean;
  readonly onOutcome?: (target: DispatchTarget, outcome: DeliveryOutcome) => void;
}

/** A running dev environment. */
export interface DevRunner {
  readonly functions: readonly StartedFunction[];
  readonly log: Logger;
  stop(): Promise<void>;
}

/**
 * A function as runDev starts it: restarted like a pod, and told (UPSHIFT_CONTAINER_CONCURRENCY) how
 * many requests the dispatcher sends it at once, so a function that caps its own work sizes the cap
 * to match and never has to refuse a delivery with 429.
 */
function withDevDefaults(spec: DevFunctionSpec): DevFunctionSpec & { concurrency: number } {
  const concurrency = spec.concurrency ?? functionLimits[spec.name].devConcurrency;
  return { restart: true, ...spec, concurrency, env: { ...spec.env, [CONCURRENCY_VARIABLE]: String(concurrency) } };
}

/** Starts topics, functions and dispatcher; stop() tears all of it down. */
export async function runDev(options: DevOptions): Promise<DevRunner> {
  const env = options.env ?? process.env;
  const config = parseConfig(DevConfig, env);
  const log = createLogger('dev', config.LOG_LEVEL);
  const kafka = createKafka(config.KAFKA_BROKERS, 'upshift-dev', kafkaSecurity(config));
  const admin = kafka.admin();
  await admin.connect();
  await ensureCatalogueTopics(admin, config.UPSHIFT_TOPIC_PREFIX).finally(() => admin.disconnect());
  const specs = options.functions.map(withDevDefaults);
  const started: StartedFunction[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((fn) => fn.stop()));
  };
  try {
    for (const spec of specs) started.push(await startFunction(spec, env, options.quiet ?? false));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const dispatcher = new Dispatcher({
    kafka, log, topicPrefix: config.UPSHIFT_TOPIC_PREFIX,
    targets: started.map((fn, i) => ({ functionName: fn.name, url: fn.url, concurrency: specs[i]?.concurrency })),
    ...(options.retry ? { retry: options.retry } : {}),
    duplicate: options.duplicate ?? false,
    ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}),
  });
  await dispatcher.start().catch(async (err: unknown) => {
    await dispatcher.stop();
    await stopAll();
    throw err;
  });
  log.info({ functions: started.map((fn) => `${fn.name}=${fn.url}`) }, 'upshift dev running');
  return { functions: started, log, stop: async () => { await dispatcher.stop(); await stopAll(); } };
}

/**
 * Entry for `upshift dev [--duplicate]`: runs until SIGINT/SIGTERM, then resolves with an exit code.
 * `functions` defaults to the catalogue functions that are installed (catalogueFunctions).
 */
export async function devCommand(options: { duplicate?: boolean; functions?: readonly DevFunctionSpec[] } = {}): Promise<number> {
  const runner = await runDev({ functions: options.functions ?? catalogueFunctions().present, duplicate: options.duplicate ?? false });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await runner.stop();
  return 0;
}
