/**
 * Publishing `upgrade.requested` (`upshift request`, the demo), optionally under a topic prefix: the
 * functions' UPSHIFT_TOPIC_PREFIX, which isolates a deployment, a demo or a test on a shared broker. It is
 * the events package's publishUpgradeRequest (validated policy, id derived from the run id, a W3C trace).
 */
import { ensureTopics, publishUpgradeRequest, type KafkaConnection, type KafkaSasl, type PublishedRequest, type UpgradePolicy } from '@upshift/events';
import { kafkaSecurity, KafkaSecurityVariables, type KafkaSecurity } from '@upshift/runtime';
import { z } from 'zod';

/** Kafka settings of the CLI: fail fast (5 s connect, 3 retries), client logs off (we report errors). */
export function cliKafkaConfig(brokers: readonly string[], clientId = 'upshift-cli', env: NodeJS.ProcessEnv = process.env): KafkaConnection {
  return { clientId, brokers: [...brokers], connectionTimeoutMs: 5000, retries: 3, logs: 'none', ...cliKafkaSecurity(env) };
}

/** The functions' SASL settings as the events package takes them (they only ever hold a user and a password). */
function saslOf(sasl: NonNullable<KafkaSecurity['sasl']>): KafkaSasl {
  if (!('username' in sasl)) throw new TypeError(`SASL ${sasl.mechanism}: only user/password mechanisms are supported`);
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
}

/**
 * SASL/TLS from the same variables the functions read (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
 * KAFKA_SASL_PASSWORD, KAFKA_TLS, KAFKA_TLS_CA_FILE); unset: plaintext, as on the local stack.
 */
export function cliKafkaSecurity(env: NodeJS.ProcessEnv = process.env): Pick<KafkaConnection, 'ssl' | 'sasl'> {
  const { ssl, sasl } = kafkaSecurity(z.object(KafkaSecurityVariables).parse(env));
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl === undefined ? {} : { sasl: saslOf(sasl) }) };
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
export async function ensureTopicsUnder(config: KafkaConnection, prefix: string): Promise<void> {
  await ensureTopics(config, prefix ? { topicPrefix: prefix } : {});
}

/** Validates `policy` and publishes `upgrade.requested` to the (prefixed) plan topic; throws PolicyInvalid with every field problem. */
export function publishRequest(config: KafkaConnection, policy: UpgradePolicy, options: RequestOptions = {}): Promise<PublishedRequest> {
  const { topicPrefix, requestedBy, runId } = options;
  return publishUpgradeRequest(config, policy, {
    ...(runId ? { runId } : {}), ...(requestedBy ? { requestedBy } : {}), ...(topicPrefix ? { topicPrefix } : {}),
  });
}
