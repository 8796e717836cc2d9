/**
 * Test support for the real stack: environment from `node stack/src/cli.ts env` when not exported,
 * a fresh database per test file, a unique topic prefix with the catalogue topics, and a consumer that
 * collects decoded events. Everything returned has a clean-up.
 */
import { retryWhileRetriable } from '@upshift/events';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DEAD_LETTER_TOPIC, decodeKafka } from '@upshift/events';
import type { AnyUpshiftEvent } from '@upshift/events';
import type { Consumer, KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { migrateStore } from '../../src/store/migrate.ts';
import { createPool } from '../../src/store/pool.ts';
import { createKafka } from '../../src/transport/kafka.ts';
import { deletePrefixedTopics, ensureCatalogueTopics } from '../../src/transport/topics.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The stack's variables: exported ones win, else asked from the stack CLI. */
export function stackEnv(): Record<string, string> {
  const wanted = ['DATABASE_URL', 'POSTGRES_ADMIN_URL', 'KAFKA_BROKERS', 'OTLP_ENDPOINT', 'JAEGER_QUERY_URL'];
  const env: Record<string, string> = {};
  if (!process.env['POSTGRES_ADMIN_URL'] || !process.env['KAFKA_BROKERS']) {
    const text = execFileSync(process.execPath, ['stack/src/cli.ts', 'env'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const match of text.matchAll(/^export (\w+)='([^']*)'$/gm)) env[match[1]!] = match[2]!;
  }
  for (const name of wanted) if (process.env[name]) env[name] = process.env[name]!;
  return env;
}

/** A unique lowercase suffix for names of this test run. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Creates a fresh database; returns its URL and a drop. */
export async function freshDatabase(env: Record<string, string>): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = env['POSTGRES_ADMIN_URL'];
  if (!adminUrl) throw new Error('POSTGRES_ADMIN_URL is not set (start the stack: node stack/src/cli.ts up)');
  const name = `upshift_rt_${uniqueSuffix()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A fresh database at the control store's current schema, with a pool on it; `close` ends the pool and drops it. */
export async function freshControlStore(env: Record<string, string>, poolSize = 2): Promise<{ url: string; pool: pg.Pool; close: () => Promise<void> }> {
  const db = await freshDatabase(env);
  const pool = createPool(db.url, { max: poolSize });
  await migrateStore(pool);
  return { url: db.url, pool, close: async () => { await pool.end(); await db.drop(); } };
}

/** Creates the catalogue topics under a fresh prefix; returns the prefix and a delete. */
export async function freshTopics(env: Record<string, string>): Promise<{ prefix: string; remove: () => Promise<void> }> {
  const prefix = `rt-${uniqueSuffix()}.`;
  const admin = createKafka(brokersOf(env), 'upshift-test-admin').admin();
  await admin.connect();
  await ensureCatalogueTopics(admin, prefix);
  await admin.disconnect();
  return {
    prefix,
    remove: async () => {
      const cleanup = createKafka(brokersOf(env), 'upshift-test-admin').admin();
      await cleanup.connect();
      await deletePrefixedTopics(cleanup, prefix);
      await cleanup.disconnect();
    },
  };
}

/** The broker list of the stack. */
export function brokersOf(env: Record<string, string>): string[] {
  return (env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
}

/** A consumer on `topic` from the beginning that keeps every record. */
export interface Collector {
  readonly messages: KafkaMessage[];
  events(): AnyUpshiftEvent[];
  waitFor(count: number, timeoutMs?: number): Promise<KafkaMessage[]>;
  stop(): Promise<void>;
}

/** Starts a collector on `topic` (prefixed name). */
export async function collect(env: Record<string, string>, topic: string): Promise<Collector> {
  const consumer: Consumer = createKafka(brokersOf(env), 'upshift-test-collector').consumer({ groupId: `collector-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await retryWhileRetriable(() => consumer.subscribe({ topic, fromBeginning: true }));
  await consumer.run({ eachMessage: async ({ message }) => { messages.push(message); } });
  // Each record is decoded once: callers poll events() (a run's waitFor every 100 ms), and decoding every
  // record on each poll grew with the run (15,000 progress events ≈ 0.5 s of CPU per poll).
  const decoded: AnyUpshiftEvent[] = [];
  return {
    messages,
    events: () => {
      for (let i = decoded.length; i < messages.length; i++) decoded.push(decodeKafka(messages[i]!));
      return [...decoded];
    },
    async waitFor(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      return messages;
    },
    stop: () => consumer.disconnect(),
  };
}

/** The prefixed dead-letter topic. */
export function deadLetterTopic(prefix: string): string {
  return `${prefix}${DEAD_LETTER_TOPIC}`;
}

/** Polls `check` until it returns a value or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The environment of functions under test: the stack, this run's database and topic prefix. */
export function functionEnv(
  env: Record<string, string>, databaseUrl: string, prefix: string, extra: Record<string, string> = {},
): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && name !== 'OTLP_ENDPOINT') base[name] = value;
  const { OTLP_ENDPOINT: _otlp, ...stack } = env;
  return { ...base, ...stack, DATABASE_URL: databaseUrl, UPSHIFT_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn', RELAY_POLL_MS: '500', ...extra };
}
