/**
 * The kafkajs side of events/src/kafka, kept private to this folder: a client from upshift's
 * KafkaConnection (quiet logs, Java-compatible key partitioner), and connected producers and admins.
 */
import { Kafka, Partitioners, logLevel, type Admin, type KafkaConfig, type Producer, type SASLOptions } from 'kafkajs';
import type { KafkaConnection, KafkaSasl } from './connection.ts';

/** kafkajs' SASL options, a union per mechanism (a mechanism held in a variable does not narrow it). */
function saslOptions({ mechanism, username, password }: KafkaSasl): SASLOptions {
  return mechanism === 'plain' ? { mechanism, username, password }
    : mechanism === 'scram-sha-256' ? { mechanism, username, password } : { mechanism, username, password };
}

/** The kafkajs options of a connection: only what it sets, so kafkajs' defaults hold for the rest. */
export function kafkaConfigOf(connection: KafkaConnection): KafkaConfig {
  const { brokers, clientId, ssl, sasl, connectionTimeoutMs, retries, logs } = connection;
  return {
    clientId: clientId ?? 'upshift',
    brokers: [...brokers],
    logLevel: logs === 'none' ? logLevel.NOTHING : logLevel.ERROR,
    ...(ssl === undefined ? {} : { ssl }),
    ...(sasl === undefined ? {} : { sasl: saslOptions(sasl) }),
    ...(connectionTimeoutMs === undefined ? {} : { connectionTimeout: connectionTimeoutMs }),
    ...(retries === undefined ? {} : { retry: { retries } }),
  };
}

/** A kafkajs client for `connection`. */
export function kafkaClient(connection: KafkaConnection): Kafka {
  return new Kafka(kafkaConfigOf(connection));
}

/** A connected producer that waits for all in-sync replicas and partitions by key (murmur2). */
export async function openProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/** Runs `work` with a connected admin client and always disconnects it. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Brokers from a comma-separated list such as `KAFKA_BROKERS` (`host:port,host:port`). */
export function brokersFrom(list: string | undefined): string[] {
  return (list ?? '').split(',').map((b) => b.trim()).filter((b) => b !== '');
}
