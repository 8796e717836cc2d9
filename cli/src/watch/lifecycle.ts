/**
 * A run's lifecycle events from Kafka, from the current end of the (optionally prefixed) lifecycle
 * topic: the prefix is `UPSHIFT_TOPIC_PREFIX`, which isolates a demo or a test on a shared broker.
 */
import { randomUUID } from 'node:crypto';
import { decodeKafka, kafkaClient, LIFECYCLE_TOPIC, retryWhileRetriable, topicEnd, type AnyUpshiftEvent } from '@upshift/events';
import { cliKafkaConfig } from '../publish.ts';

/** A running subscription. */
export interface LifecycleFeed {
  stop(): Promise<void>;
}

/** Calls `onEvent` with each lifecycle event of `runId` published from now on; undecodable messages are skipped. */
export async function followLifecycle(brokers: readonly string[], prefix: string, runId: string, onEvent: (event: AnyUpshiftEvent) => void): Promise<LifecycleFeed> {
  const kafka = kafkaClient(cliKafkaConfig(brokers, 'upshift-watch'));
  const topic = `${prefix}${LIFECYCLE_TOPIC}`;
  const admin = kafka.admin();
  await admin.connect();
  const ends = await topicEnd(admin, topic).finally(() => admin.disconnect());
  const consumer = kafka.consumer({ groupId: `${prefix}upshift-watch-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await retryWhileRetriable(() => consumer.subscribe({ topic, fromBeginning: false }));
  await consumer.run({
    eachMessage: async ({ message }) => {
      let event: AnyUpshiftEvent;
      try {
        event = decodeKafka(message);
      } catch {
        return;
      }
      if ((event.data as { runId?: string }).runId === runId) onEvent(event);
    },
  });
  for (const end of ends) consumer.seek({ topic, partition: end.partition, offset: end.offset });
  return { stop: () => consumer.disconnect() };
}
