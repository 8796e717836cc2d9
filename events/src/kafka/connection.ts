/**
 * How users and tools reach Kafka: upshift's own options, mapped onto the Kafka client inside
 * events/src/kafka (client.ts), so nothing public names the client library and it can change here alone.
 */
import type { ConnectionOptions } from 'node:tls';

/** The SASL mechanisms that need only a user and a password (the ones the functions read from KAFKA_SASL_*). */
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** SASL credentials; the password only ever reaches the client's options. */
export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** Where the brokers are and how to authenticate; only `brokers` is required. */
export interface KafkaConnection {
  /** `host:port` of one or more brokers (`brokersFrom(process.env.KAFKA_BROKERS)`). */
  readonly brokers: readonly string[];
  /** Names the client in broker logs and quotas; default `upshift`. */
  readonly clientId?: string;
  /** TLS: `true` verifies the brokers against the system roots; Node's TLS options (e.g. `{ ca: [pem] }`) for more. */
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: KafkaSasl;
  /** How long to wait for a broker to accept a connection (ms); default 1,000. */
  readonly connectionTimeoutMs?: number;
  /** How often a failed request is retried (with backoff) before it fails; default 5. */
  readonly retries?: number;
  /** `errors` (default) lets the client log its errors to the console; `none` leaves reporting to the caller. */
  readonly logs?: 'errors' | 'none';
}
