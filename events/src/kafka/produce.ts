/**
 * Typed producing: `publishEvents` for functions (through the outbox relay) and
 * `publishUpgradeRequest` for users (CLI, CI). Everything goes through `encodeKafka`.
 */
import type { KafkaConfig, Producer, RecordMetadata } from 'kafkajs';
import type { z } from 'zod';
import { encodeKafka } from '../bindings/kafka.ts';
import type { ContentMode } from '../bindings/sdk.ts';
import { createEvent, type AnyUpshiftEvent } from '../event.ts';
import { derivedId, uuidv7 } from '../ids.ts';
import { parsePolicy, PolicyInvalid } from '../policy/parse.ts';
import type { UpgradePolicy } from '../policy/schema.ts';
import { activeTraceContext } from '../otel.ts';
import { newTraceparent, traceIdOf } from '../trace.ts';
import { connectProducer, kafkaClient, withAdmin } from './client.ts';
import { ensureTopics } from './topics.ts';

/** Sends events to their catalogue topics, keyed by partition key, acknowledged by all in-sync replicas. */
export async function publishEvents(producer: Producer, events: readonly AnyUpshiftEvent[], options: { readonly mode?: ContentMode } = {}): Promise<RecordMetadata[]> {
  const byTopic = new Map<string, { key: string; value: string; headers: Record<string, string>; timestamp?: string }[]>();
  for (const event of events) {
    const record = encodeKafka(event, options);
    const messages = byTopic.get(record.topic) ?? [];
    messages.push({ key: record.key, value: record.value, headers: { ...record.headers }, ...(record.timestamp ? { timestamp: record.timestamp } : {}) });
    byTopic.set(record.topic, messages);
  }
  return producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
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
}

/** What publishUpgradeRequest sent: the run to follow, the event id and the run's trace id. */
export interface PublishedRequest {
  readonly runId: string;
  readonly eventId: string;
  readonly traceId?: string;
}

/** Validates a policy and publishes `upgrade.requested` for it; throws PolicyInvalid with every field problem. */
export async function publishUpgradeRequest(kafkaConfig: KafkaConfig, policy: z.input<typeof UpgradePolicy>, options: PublishRequestOptions = {}): Promise<PublishedRequest> {
  const parsed = parsePolicy(policy);
  if (!parsed.ok) throw new PolicyInvalid(parsed.problems);
  const runId = options.runId ?? uuidv7();
  const trace = options.traceparent ? { traceparent: options.traceparent, tracestate: options.tracestate } : (activeTraceContext() ?? { traceparent: newTraceparent() });
  const event = createEvent('upgrade.requested', {
    runId, policy: parsed.policy, ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
  }, { producer: 'cli', id: derivedId('upgrade.requested', runId), ...trace });
  const kafka = kafkaClient(kafkaConfig);
  if (options.ensureTopics !== false) await withAdmin(kafka, (admin) => ensureTopics(admin));
  const producer = await connectProducer(kafka);
  try {
    await publishEvents(producer, [event], options.mode ? { mode: options.mode } : {});
  } finally {
    await producer.disconnect();
  }
  return { runId, eventId: event.id, ...(event.traceparent ? { traceId: traceIdOf(event.traceparent) } : {}) };
}
