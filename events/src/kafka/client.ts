/** Small kafkajs factories with upshift's defaults (quiet logs, Java-compatible key partitioner). */
import { Kafka, Partitioners, logLevel, type Admin, type KafkaConfig, type Producer } from 'kafkajs';

/** A kafkajs client; logs only errors unless the config says otherwise. */
export function kafkaClient(config: KafkaConfig): Kafka {
  return new Kafka({ clientId: 'upshift', logLevel: logLevel.ERROR, ...config });
}

/** A connected producer that waits for all in-sync replicas and partitions by key (murmur2). */
export async function connectProducer(kafka: Kafka): Promise<Producer> {
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
