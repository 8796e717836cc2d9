/**
 * Publishing `upgrade.requested` (`upshift request`, the demo) under a topic prefix: the functions'
 * UPSHIFT_TOPIC_PREFIX, which isolates a deployment, a demo or a test on a shared broker. Without a
 * prefix it is the events package's publishUpgradeRequest as is; with one, the same event (validated
 * policy, id derived from the run id, a new W3C trace) sent to `<prefix>upshift.plan`.
 */
import {
  connectProducer, createEvent, derivedId, encodeKafka, ensureTopics, kafkaClient, newTraceparent, parsePolicy, PolicyInvalid,
  publishUpgradeRequest, traceIdOf, uuidv7, type PublishedRequest, type UpgradePolicy,
} from '@upshift/events';
import { ensureCatalogueTopics, kafkaLogLevel, kafkaSecurity, KafkaSecurityVariables, type KafkaConfig } from '@upshift/runtime';
import { z } from 'zod';

/** Kafka settings of the CLI: fail fast (5 s connect, 3 retries), kafkajs logs off (we report errors). */
export function cliKafkaConfig(brokers: readonly string[], clientId = 'upshift-cli', env: NodeJS.ProcessEnv = process.env): KafkaConfig {
  return { clientId, brokers: [...brokers], connectionTimeout: 5000, retry: { retries: 3 }, logLevel: kafkaLogLevel.NOTHING, ...cliKafkaSecurity(env) };
}

/**
 * SASL/TLS from the same variables the functions read (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
 * KAFKA_SASL_PASSWORD, KAFKA_TLS, KAFKA_TLS_CA_FILE); unset: plaintext, as on the local stack.
 */
export function cliKafkaSecurity(env: NodeJS.ProcessEnv = process.env) {
  return kafkaSecurity(z.object(KafkaSecurityVariables).parse(env));
}

/** Options of publishRequest. */
export interface RequestOptions {
  /** Default: a new UUIDv7. Re-publishing the same run id yields the same event id (plan deduplicates it). */
  readonly runId?: string;
  readonly requestedBy?: string;
  /** Prepended to the topic names, as the functions' UPSHIFT_TOPIC_PREFIX; default none. */
  readonly topicPrefix?: string;
}

/** Creates what is missing of the catalogue topics under `prefix` (none: the catalogue topics themselves). */
export async function ensureTopicsUnder(config: KafkaConfig, prefix: string): Promise<void> {
  const admin = kafkaClient(config).admin();
  await admin.connect();
  try {
    if (prefix) await ensureCatalogueTopics(admin, prefix);
    else await ensureTopics(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Validates `policy` and publishes `upgrade.requested` to the (prefixed) plan topic; throws PolicyInvalid with every field problem. */
export async function publishRequest(config: KafkaConfig, policy: UpgradePolicy, options: RequestOptions = {}): Promise<PublishedRequest> {
  const prefix = options.topicPrefix ?? '';
  const runId = options.runId ?? uuidv7();
  const requestedBy = options.requestedBy ? { requestedBy: options.requestedBy } : {};
  if (!prefix) return publishUpgradeRequest(config, policy, { runId, ...requestedBy });
  const parsed = parsePolicy(policy);
  if (!parsed.ok) throw new PolicyInvalid(parsed.problems);
  const traceparent = newTraceparent();
  const event = createEvent('upgrade.requested', { runId, policy: parsed.policy, ...requestedBy }, { producer: 'cli', id: derivedId('upgrade.requested', runId), traceparent });
  await ensureTopicsUnder(config, prefix);
  const record = encodeKafka(event);
  const producer = await connectProducer(kafkaClient(config));
  try {
    await producer.send({ topic: `${prefix}${record.topic}`, acks: -1, messages: [{ key: record.key, value: record.value, headers: { ...record.headers } }] });
  } finally {
    await producer.disconnect();
  }
  return { runId, eventId: event.id, traceId: traceIdOf(traceparent) };
}
