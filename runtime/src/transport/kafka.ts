/**
 * Kafka transport (kafkajs) using the CloudEvents Kafka binding from the contract. The messages of one
 * trace (one run) go in one request, inside the trace context of the first of them, so the producer
 * spans join the run's trace; each message keeps its own event's traceparent, which the consumer continues.
 */
import { context } from '@opentelemetry/api';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { encodeKafka, traceIdOf } from '@upshift/events';
import { contextOfEvent } from '../telemetry/propagation.ts';
import { wrapError } from '../wrap-error.ts';
import type { KafkaSecurity } from './kafka-security.ts';
import type { OutgoingMessage, Publisher } from './types.ts';

/**
 * Creates the kafkajs client; kafkajs' own logger is silenced (errors surface as UpshiftErrors).
 * `security` is SASL/TLS from `kafkaSecurity(config)`; none: plaintext without auth (the local stack).
 */
export function createKafka(brokers: readonly string[], clientId: string, security: KafkaSecurity = {}): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 100, retries: 8 },
    ...security,
  });
}

/**
 * How long one publish keeps trying before it fails back to the relay, which keeps its outbox rows and
 * tries again at its next poll: waits of at most 1 s (not kafkajs' backoff growing to 30 s), so that
 * publishing resumes within about a second of a broker coming back, and claimed rows are not held long.
 */
const publishRetry = { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 };

/** Publishes CloudEvents to Kafka in binary mode, acks from all in-sync replicas. */
export class KafkaPublisher implements Publisher {
  #producer: Producer;
  #admin: Admin;
  #connected: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.#producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, retry: publishRetry });
    this.#admin = kafka.admin();
  }

  /** Connects once; later calls share the same attempt. */
  connect(): Promise<void> {
    this.#connected ??= this.#producer.connect().catch((err: unknown) => {
      this.#connected = undefined;
      throw wrapError(err, { operation: 'kafka.connect' });
    });
    return this.#connected;
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    await this.connect();
    const byTrace = new Map<string, OutgoingMessage[]>();
    for (const message of messages) {
      const trace = traceOf(message);
      const group = byTrace.get(trace);
      if (group) group.push(message);
      else byTrace.set(trace, [message]);
    }
    try {
      await Promise.all([...byTrace.values()].map((group) => this.#sendInTrace(group)));
    } catch (err) {
      throw wrapError(err, { operation: 'kafka.publish' });
    }
  }

  async #sendInTrace(group: readonly OutgoingMessage[]): Promise<void> {
    const first = group[0];
    if (!first) return;
    const topics = new Map<string, OutgoingMessage[]>();
    for (const message of group) {
      const list = topics.get(message.topic);
      if (list) list.push(message);
      else topics.set(message.topic, [message]);
    }
    await context.with(contextOfEvent(first.event), () =>
      this.#producer.sendBatch({
        acks: -1,
        topicMessages: [...topics].map(([topic, list]) => ({
          topic,
          messages: list.map((message) => toKafkaRecord(message)),
        })),
      }),
    );
  }

  async check(): Promise<void> {
    try {
      await this.#admin.connect();
      await this.#admin.describeCluster();
    } catch (err) {
      throw wrapError(err, { operation: 'kafka.check' });
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#producer.disconnect(), this.#admin.disconnect()]);
  }
}

/** The trace a message belongs to: its traceparent's trace id (events of one run share it), '' without one. */
function traceOf(message: OutgoingMessage): string {
  const traceparent = message.event.traceparent;
  return typeof traceparent === 'string' ? traceIdOf(traceparent) : '';
}

/** The kafkajs message of an outgoing event: binary-mode CloudEvent, catalogue key unless overridden. */
function toKafkaRecord(message: OutgoingMessage): { key: string; value: string; headers: Record<string, string> } {
  const record = message.record ?? encodeKafka(message.event);
  return { key: message.key ?? record.key, value: record.value, headers: { ...record.headers } };
}
