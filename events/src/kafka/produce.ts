/**
 * Typed producing: `connectProducer` for tools and tests that send events, and `publishUpgradeRequest`
 * for users (CLI, CI). Everything goes through `encodeKafka`.
 */
import type { Producer } from 'kafkajs';
import type { z } from 'zod';
import { encodeKafka } from '../bindings/kafka.ts';
import type { ContentMode } from '../bindings/sdk.ts';
import { createEvent, type AnyUpshiftEvent } from '../event.ts';
import { derivedId, uuidv7 } from '../ids.ts';
import { parsePolicy, PolicyInvalid } from '../policy/parse.ts';
import type { UpgradePolicy } from '../policy/schema.ts';
import { activeTraceContext } from '../otel.ts';
import { newTraceparent, traceIdOf } from '../trace.ts';
import { kafkaClient, openProducer, withAdmin } from './client.ts';
import type { KafkaConnection } from './connection.ts';
import { createMissingTopics } from './topics.ts';

/** Options of EventProducer.publish. */
export interface PublishOptions {
  /** Kafka content mode; binary by default. */
  readonly mode?: ContentMode;
  /** Prepended to the topic names, as the functions' UPSHIFT_TOPIC_PREFIX (an isolated deployment or test). */
  readonly topicPrefix?: string;
}

/** Where a publish landed: one per partition written, at the offset of the first event written there. */
export interface PublishedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A connected producer of upshift events; `close` it when done. */
export interface EventProducer {
  /** Sends events to their catalogue topics, keyed by partition key, acknowledged by all in-sync replicas. */
  readonly publish: (events: readonly AnyUpshiftEvent[], options?: PublishOptions) => Promise<PublishedRecord[]>;
  /** Disconnects the producer. */
  readonly close: () => Promise<void>;
}

async function sendEvents(producer: Producer, events: readonly AnyUpshiftEvent[], options: PublishOptions): Promise<PublishedRecord[]> {
  const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string>; timestamp?: string }[]>();
  for (const event of events) {
    const record = encodeKafka(event, options.mode ? { mode: options.mode } : {});
    const topic = `${options.topicPrefix ?? ''}${record.topic}`;
    const messages = byTopic.get(topic) ?? [];
    messages.push({ key: record.key, value: record.value, headers: { ...record.headers }, ...(record.timestamp ? { timestamp: record.timestamp } : {}) });
    byTopic.set(topic, messages);
  }
  const written = await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  return written.map((m) => ({ topic: m.topicName, partition: m.partition, offset: m.baseOffset ?? m.offset ?? '-1' }));
}

/** A connected EventProducer (acks from all in-sync replicas, key-partitioned like the Java client). */
export async function connectProducer(connection: KafkaConnection): Promise<EventProducer> {
  const producer = await openProducer(kafkaClient(connection));
  return { publish: (events, options = {}) => sendEvents(producer, events, options), close: () => producer.disconnect() };
}

/** Options of publishUpgradeRequest. */
export interface PublishRequestOptions {
  /** Defaults to a new UUIDv7 (time-ordered). Re-publishing with the same run id yields the same event id, so plan deduplicates it. */
  readonly runId?: string;
  /** Who asked (user, CI job); goes into the event data. */
  readonly requestedBy?: string;
  /** Trace context; defaults to the active OpenTelemetry span, else a new root trace for the run. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** Kafka content mode; binary by default. */
  readonly mode?: ContentMode;
  /** Create missing topics first (default true). */
  readonly ensureTopics?: boolean;
  /** Prepended to the topic names, as the functions' UPSHIFT_TOPIC_PREFIX (an isolated deployment, a demo or a test). */
  readonly topicPrefix?: string;
}

/** What publishUpgradeRequest sent: the run to follow, the event id and the run's trace id. */
export interface PublishedRequest {
  readonly runId: string;
  readonly eventId: string;
  readonly traceId?: string;
}

/** Validates a policy and publishes `upgrade.requested` for it; throws PolicyInvalid with every field problem. */
export async function publishUpgradeRequest(connection: KafkaConnection, policy: z.input<typeof UpgradePolicy>, options: PublishRequestOptions = {}): Promise<PublishedRequest> {
  const parsed = parsePolicy(policy);
  if (!parsed.ok) throw new PolicyInvalid(parsed.problems);
  const runId = options.runId ?? uuidv7();
  const trace = options.traceparent ? { traceparent: options.traceparent, tracestate: options.tracestate } : (activeTraceContext() ?? { traceparent: newTraceparent() });
  const event = createEvent('upgrade.requested', {
    runId, policy: parsed.policy, ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
  }, { producer: 'cli', id: derivedId('upgrade.requested', runId), ...trace });
  const kafka = kafkaClient(connection);
  const topicPrefix = options.topicPrefix ? { topicPrefix: options.topicPrefix } : {};
  if (options.ensureTopics !== false) await withAdmin(kafka, (admin) => createMissingTopics(admin, topicPrefix));
  const producer = await openProducer(kafka);
  try {
    await sendEvents(producer, [event], { ...(options.mode ? { mode: options.mode } : {}), ...topicPrefix });
  } finally {
    await producer.disconnect();
  }
  return { runId, eventId: event.id, ...(event.traceparent ? { traceId: traceIdOf(event.traceparent) } : {}) };
}
