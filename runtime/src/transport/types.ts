/**
 * The transport port: what the relay publishes through and what the dispatcher consumes from. Kafka in
 * every real process; the in-memory transport exists for unit tests only.
 */
import type { AnyUpshiftEvent, KafkaRecord } from '@upshift/events';

/** One event to publish, with its destination. */
export interface OutgoingMessage {
  readonly topic: string;
  /** Kafka message key (the catalogue's partition key); same key → same partition → ordered. */
  readonly key: string | undefined;
  readonly event: AnyUpshiftEvent;
  /** The event already encoded for Kafka (`encodeKafka(event)`), when the sender has it: not encoded again. */
  readonly record?: KafkaRecord;
}

/** Publishes events; resolves when the broker acknowledged all of them. */
export interface Publisher {
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Throws when the broker cannot be reached (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}
