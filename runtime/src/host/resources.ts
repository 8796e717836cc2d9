/**
 * What a function instance opens at init and closes at shutdown: config, logger, control-store pool
 * (schema migrated), Kafka publisher and outbox relay.
 */
import type { Pool } from 'pg';
import { HostConfig, parseConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import type { Logger } from '../log.ts';
import { migrateStore } from '../store/migrate.ts';
import { controlPoolMax, createPool } from '../store/pool.ts';
import { OutboxRelay } from '../store/relay.ts';
import { KafkaPublisher, createKafka } from '../transport/kafka.ts';
import { describeKafkaSecurity, kafkaSecurity } from '../transport/kafka-security.ts';
import type { KafkaSecurity } from '../transport/kafka-security.ts';
import type { Publisher } from '../transport/types.ts';
import type { FunctionDefinition, InitOverrides } from './function.ts';
import type { FunctionMetrics } from './metrics.ts';

/** The open resources of one function instance. */
export interface Resources<C extends HostConfig = HostConfig> {
  readonly config: C;
  readonly log: Logger;
  readonly pool: Pool;
  readonly publisher: Publisher;
  readonly relay: OutboxRelay;
}

/** Parses config (failing fast naming the variable), migrates the store, starts publisher and relay. */
export async function openResources<C extends HostConfig>(
  definition: FunctionDefinition<C>,
  metrics: FunctionMetrics,
  overrides: InitOverrides,
): Promise<Resources<C>> {
  const schema = definition.config ?? HostConfig;
  const config = parseConfig(schema, overrides.env ?? process.env) as C;
  const log = createLogger(definition.name, config.LOG_LEVEL);
  const kafka = kafkaSecurity(config); // checked before anything opens, like the rest of the config
  const pool = createPool(config.DATABASE_URL, {
    max: config.UPSHIFT_CONTROL_POOL_MAX ?? controlPoolMax(config.UPSHIFT_CONTAINER_CONCURRENCY),
    applicationName: `upshift-${definition.name}`,
    prepared: config.UPSHIFT_CONTROL_PREPARED === 'on',
    onError: (err) => log.warn({ err }, 'control-store connection lost; the pool opens a new one'),
  });
  try {
    await migrateStore(pool);
    metrics.controlStore.observe(pool);
    const publisher = overrides.publisher ?? (await connectedPublisher(config, kafka, definition.name, log));
    const relay = new OutboxRelay({
      pool, databaseUrl: config.DATABASE_URL, publisher, log, pollMs: config.RELAY_POLL_MS,
      onPublished: (count) => metrics.published.inc(count),
    });
    await relay.start();
    return { config, log, pool, publisher, relay };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

async function connectedPublisher(config: HostConfig, security: KafkaSecurity, functionName: string, log: Logger): Promise<Publisher> {
  log.info(`kafka: ${describeKafkaSecurity(security)}`);
  const publisher = new KafkaPublisher(createKafka(config.KAFKA_BROKERS, `upshift-${functionName}`, security));
  await publisher.connect();
  return publisher;
}

/** Stops the relay first (it may be mid-publish), then the publisher and the pool. */
export async function closeResources(resources: Resources): Promise<void> {
  await resources.relay.stop();
  await resources.publisher.close();
  await resources.pool.end().catch(() => undefined);
}
