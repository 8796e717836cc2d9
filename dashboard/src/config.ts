/**
 * The dashboard's settings: one zod schema, parsed once at start from the command line's options and the
 * environment, failing with the setting that is wrong (never its value: URLs and the token are secrets).
 */
import { HostConfig, KafkaSecurityVariables } from '@upshift/runtime';
import { z } from 'zod';
import { isLoopback } from './core/access.ts';

/** Everything the dashboard process is told. */
export const DashboardConfig = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8090),
  readOnly: z.boolean().default(false),
  noAuth: z.boolean().default(false),
  /** UPSHIFT_DASHBOARD_TOKEN: controls need it as a Bearer token. */
  token: z.preprocess((value) => (value === '' ? undefined : value), z.string().min(16, 'must be at least 16 characters').optional()),
  databaseUrl: HostConfig.shape.DATABASE_URL,
  /** Where controls are published; without brokers the dashboard is read-only. */
  brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).default([]),
  topicPrefix: HostConfig.shape.UPSHIFT_TOPIC_PREFIX,
  /** The Jaeger UI for trace links (JAEGER_UI_URL, else JAEGER_QUERY_URL). */
  jaegerUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Kafka SASL and TLS, as the functions take them. */
  kafka: z.object(KafkaSecurityVariables).default({ KAFKA_TLS: false }),
}).refine((config) => !config.noAuth || isLoopback(config.host), {
  message: '--no-auth is for local use: it needs --host on loopback (127.0.0.1); set UPSHIFT_DASHBOARD_TOKEN instead', path: ['noAuth'],
});
/** Parsed dashboard settings. */
export type DashboardConfig = z.infer<typeof DashboardConfig>;

/** Parses the settings; the problems name the setting, never its value. */
export function parseDashboardConfig(input: unknown): { ok: true; config: DashboardConfig } | { ok: false; problems: string[] } {
  const parsed = DashboardConfig.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'settings'}: ${issue.message}`) };
}

/** The settings of the environment (flags override them): the variables the functions read, plus the dashboard's own. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const kafka = Object.fromEntries(Object.keys(KafkaSecurityVariables).map((name) => [name, env[name]]));
  return {
    databaseUrl: env.DATABASE_URL, token: env.UPSHIFT_DASHBOARD_TOKEN, topicPrefix: env.UPSHIFT_TOPIC_PREFIX ?? '',
    brokers: (env.KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter((b) => b !== ''),
    jaegerUrl: env.JAEGER_UI_URL || env.JAEGER_QUERY_URL || undefined, kafka,
  };
}
