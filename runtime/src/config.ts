/**
 * Configuration: one zod schema per process, parsed once at start. A missing or malformed variable fails
 * start-up with the variable's name (and never its value, which may be a secret).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { UpshiftError } from './errors.ts';
import { KafkaSecurityVariables } from './transport/kafka-security.ts';

/** A comma-separated list of host:port brokers. */
const brokerList = z
  .string()
  .transform((value) => value.split(',').map((broker) => broker.trim()).filter((broker) => broker !== ''))
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1));

/** Variables every function host needs. Extend it with `.extend({...})` for a function's own. */
export const HostConfig = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  KAFKA_BROKERS: brokerList,
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  OTLP_ENDPOINT: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How often the outbox relay polls when no NOTIFY arrives. */
  RELAY_POLL_MS: z.coerce.number().int().positive().default(1000),
  /** Prepended to every Kafka topic name: isolates test runs and stacks sharing one broker. */
  UPSHIFT_TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]*$/, 'only letters, digits, ".", "_" and "-"').default(''),
  /**
   * Most connections of this instance's control-store pool (looks, leases, heartbeats, checkpoints,
   * decisions, the relay's drains; the relay's LISTEN connection is one more). Default: from
   * UPSHIFT_CONTAINER_CONCURRENCY (`controlPoolMax` in store/pool.ts; runtime/README "Connection budget").
   */
  UPSHIFT_CONTROL_POOL_MAX: z.coerce.number().int().min(2).max(100).optional(),
  /**
   * `off` runs control-store statements unnamed: for a pooler in transaction mode that keeps no
   * prepared statements (PgBouncer before 1.21, or without `max_prepared_statements`). store/prepared.ts.
   */
  UPSHIFT_CONTROL_PREPARED: z.enum(['on', 'off']).default('on'),
  /** Requests the platform sends this instance at once (Knative containerConcurrency; `upshift dev` sets what its dispatcher sends). */
  UPSHIFT_CONTAINER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).optional(),
  /** Fault injection for tests only: the process exits at this point. */
  UPSHIFT_CRASH_POINT: z.enum(['after-commit-before-publish']).optional(),
  /** Kafka SASL and TLS (KAFKA_SASL_*, KAFKA_TLS, KAFKA_TLS_CA_FILE): transport/kafka-security.ts. */
  ...KafkaSecurityVariables,
});
/** Parsed host configuration. */
export type HostConfig = z.infer<typeof HostConfig>;

/** Variables the dev dispatcher needs. */
export const DispatcherConfig = z.object({
  KAFKA_BROKERS: brokerList,
  LOG_LEVEL: HostConfig.shape.LOG_LEVEL,
  UPSHIFT_TOPIC_PREFIX: HostConfig.shape.UPSHIFT_TOPIC_PREFIX,
  ...KafkaSecurityVariables,
});
/** Parsed dispatcher configuration. */
export type DispatcherConfig = z.infer<typeof DispatcherConfig>;

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A variable naming a folder, parsed to an absolute path: a relative value resolves against the working
 * directory, unset means `defaultFolder` (absolute: callers derive it from their own module, so it does
 * not depend on where the process was started). A path that is not a folder fails start-up naming the
 * resolved path (a folder path is no secret, and the resolved one is what a person needs to see).
 */
export function folderSetting(defaultFolder: string) {
  return z.string().min(1).optional().transform((value, ctx) => {
    const folder = value === undefined ? defaultFolder : resolve(value);
    if (isFolder(folder)) return folder;
    const origin = value === undefined ? 'not set, and the default folder' : value === folder ? 'folder' : `"${value}" resolved against ${process.cwd()}:`;
    ctx.addIssue({ code: 'custom', message: `${origin} ${folder} does not exist or is not a folder` });
    return z.NEVER;
  });
}

/** Describes each failing variable as `NAME: reason`, naming what is wrong without echoing values. */
export function describeConfigIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const name = issue.path.map(String).join('.') || '(environment)';
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    return `${name}: ${missing ? 'required but not set' : issue.message}`;
  });
}

/** Parses `env` with `schema`; throws CONFIG_INVALID naming every bad or missing variable. */
export function parseConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = describeConfigIssues(result.error);
  return failConfig(problems);
}

function failConfig(problems: readonly string[]): never {
  const variables = problems.map((problem) => problem.split(':')[0] ?? '').join(',');
  throw new UpshiftError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, {
    context: { variables },
  });
}

/** Parses config at process start; on failure prints the problem and exits with status 78 (EX_CONFIG). */
export function loadConfigOrExit<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (err) {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: (err as Error).message })}\n`);
    process.exit(78);
  }
}
