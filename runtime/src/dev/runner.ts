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
import type { DeliveryOrder, DispatchTarget } from './dispatcher.ts';
import { startFunction } from './functions.ts';
import type { DevFunctionSpec, StartedFunction } from './functions.ts';
import { parseScale } from './scale.ts';
import type { Scale } from './scale.ts';

/** What the dev runner itself needs from the environment (functions parse their own). */
export const DevConfig = z.object({
  KAFKA_BROKERS: HostConfig.shape.KAFKA_BROKERS,
  LOG_LEVEL: HostConfig.shape.LOG_LEVEL,
  UPSHIFT_TOPIC_PREFIX: HostConfig.shape.UPSHIFT_TOPIC_PREFIX,
  /** Instances per function, as `--scale` takes them (`migrate-shard=4,rollout=2`); what `npm run demo -- --scale` passes. */
  UPSHIFT_DEV_SCALE: z.string().default('').transform((text, ctx) => {
    const parsed = parseScale(text);
    if ('problem' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }
    return parsed.scale;
  }),
  /**
   * `key` (default): records of one key in order, different keys at once; `partition`: one record at a
   * time per partition, exactly as the manifests' ordered KafkaSources deliver.
   */
  UPSHIFT_DEV_DELIVERY_ORDER: z.enum(['key', 'partition']).default('key'),
  ...KafkaSecurityVariables,
});

/** Options of runDev. */
export interface DevOptions {
  readonly functions: readonly DevFunctionSpec[];
  /** Environment for the runner and the functions (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Deliver every event twice (fault tests). */
  readonly duplicate?: boolean;
  /** Instances per function (`--scale`); default UPSHIFT_DEV_SCALE of `env`, else each spec's `instances`. */
  readonly scale?: Scale;
  /** Delivery order of the dispatcher; default UPSHIFT_DEV_DELIVERY_ORDER of `env`. */
  readonly order?: DeliveryOrder;
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
 * to match and never has to refuse a delivery with 429. A scaled function's instances each take the
 * manifests' `containerConcurrency`, like the pods they stand for; one unscaled process stands in for the
 * whole Service (`devConcurrency`).
 */
function withDevDefaults(spec: DevFunctionSpec, scale: Scale): DevFunctionSpec & { concurrency: number } {
  const instances = scale[spec.name] ?? spec.instances;
  const limits = functionLimits[spec.name];
  const concurrency = spec.concurrency ?? (instances === undefined ? limits.devConcurrency : limits.containerConcurrency);
  if (instances !== undefined && instances > 1 && spec.mode === 'inline') throw new Error(`${spec.name}: several instances need process mode (a module holds one instance's state)`);
  return { restart: true, ...spec, ...(instances === undefined ? {} : { instances }), concurrency, env: { ...spec.env, [CONCURRENCY_VARIABLE]: String(concurrency) } };
}

/** How many processes start at once (each start costs about a second of CPU); inline functions start one by one. */
const startsAtOnce = 8;

/** Starts every instance of every spec, a few processes at a time; the started ones in spec and instance order, all stopped if one fails. */
async function startInstances(specs: readonly DevFunctionSpec[], env: NodeJS.ProcessEnv, quiet: boolean): Promise<StartedFunction[]> {
  const wanted = specs.flatMap((spec) => Array.from({ length: spec.instances ?? 1 }, (_, instance) => ({ spec, instance })));
  const started: Array<StartedFunction | undefined> = wanted.map(() => undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < wanted.length) {
      const index = next++;
      const one = wanted[index];
      if (one) started[index] = await startFunction(one.spec, env, quiet, one.instance);
    }
  };
  const atOnce = specs.some((spec) => spec.mode === 'inline') ? 1 : startsAtOnce;
  const results = await Promise.allSettled(Array.from({ length: Math.min(atOnce, wanted.length) }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const ready = started.filter((fn): fn is StartedFunction => fn !== undefined);
  if (failed) {
    await Promise.allSettled(ready.map((fn) => fn.stop()));
    throw failed.reason;
  }
  return ready;
}

/** One dispatch target per function: its instances behind one consumer group, like one KafkaSource in front of a Service. */
function targetsOf(specs: readonly (DevFunctionSpec & { concurrency: number })[], started: readonly StartedFunction[]): DispatchTarget[] {
  return specs.map((spec) => {
    const instances = started.filter((fn) => fn.name === spec.name);
    return {
      functionName: spec.name, url: instances[0]?.url ?? '', concurrency: spec.concurrency,
      instances: instances.map((fn) => ({ url: fn.url, ready: () => fn.ready })),
    };
  });
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
  const scale = options.scale ?? config.UPSHIFT_DEV_SCALE;
  const specs = options.functions.map((spec) => withDevDefaults(spec, scale));
  const started = await startInstances(specs, env, options.quiet ?? false);
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(started.map((fn) => fn.stop()));
  };
  const dispatcher = new Dispatcher({
    kafka, log, topicPrefix: config.UPSHIFT_TOPIC_PREFIX,
    targets: targetsOf(specs, started),
    ...(options.retry ? { retry: options.retry } : {}),
    duplicate: options.duplicate ?? false,
    order: options.order ?? config.UPSHIFT_DEV_DELIVERY_ORDER,
    ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}),
  });
  await dispatcher.start().catch(async (err: unknown) => {
    await dispatcher.stop();
    await stopAll();
    throw err;
  });
  log.info({ functions: started.map((fn) => `${fn.name}${fn.instance === 0 ? '' : `-${fn.instance}`}=${fn.url}`) }, 'upshift dev running');
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
