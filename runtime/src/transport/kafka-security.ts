/**
 * How a function authenticates to Kafka and encrypts the connection: SASL (PLAIN, SCRAM-SHA-256,
 * SCRAM-SHA-512) and TLS, from the environment. In the cluster the SASL variables come from the Secret
 * `upshift-kafka-auth` and KAFKA_TLS / KAFKA_TLS_CA_FILE from the install settings (knative/README.md);
 * unset, the client speaks plaintext without auth, as the local stack does. The password only ever
 * lands in the kafkajs options: no message here quotes it.
 */
import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { UpshiftError } from '../errors.ts';

/** The SASL mechanisms kafkajs speaks without plugins (OAUTHBEARER and AWS need code, not config). */
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** An empty variable counts as unset (an env entry with an empty value, an optional Secret key left out). */
const unsetWhenEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

/** The variables, to spread into a process's config schema (`...KafkaSecurityVariables`). */
export const KafkaSecurityVariables = {
  /** plain | scram-sha-256 | scram-sha-512, any case (Knative's Secret key `sasl.mechanism` says SCRAM-SHA-512). */
  KAFKA_SASL_MECHANISM: z.preprocess(
    (value) => (typeof value === 'string' && value !== '' ? value.toLowerCase() : undefined),
    z.enum(SASL_MECHANISMS, { message: `expected one of ${SASL_MECHANISMS.join(', ')}` }).optional(),
  ),
  KAFKA_SASL_USERNAME: z.preprocess(unsetWhenEmpty, z.string().optional()),
  KAFKA_SASL_PASSWORD: z.preprocess(unsetWhenEmpty, z.string().optional()),
  /** true: connect with TLS, verifying the brokers' certificates (system roots, or KAFKA_TLS_CA_FILE). */
  KAFKA_TLS: z.preprocess(unsetWhenEmpty, z.enum(['true', 'false'], { message: 'expected true or false' }).default('false'))
    .transform((value) => value === 'true'),
  /** A PEM file of the CA that signed the brokers' certificates (a private CA such as Strimzi's). */
  KAFKA_TLS_CA_FILE: z.preprocess(unsetWhenEmpty, z.string().optional()),
};

/** The parsed variables (a config schema that spreads `KafkaSecurityVariables` yields at least these). */
export type KafkaSecuritySettings = z.output<z.ZodObject<typeof KafkaSecurityVariables>>;

/** The kafkajs options this module decides. */
export type KafkaSecurity = Pick<KafkaConfig, 'ssl' | 'sasl'>;

function invalid(variable: string, reason: string): never {
  throw new UpshiftError('CONFIG_INVALID', `invalid configuration: ${variable}: ${reason}`, { context: { variables: variable } });
}

function saslOf(settings: KafkaSecuritySettings): SASLOptions | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = settings;
  if (!mechanism) {
    if (username !== undefined || password !== undefined) {
      invalid('KAFKA_SASL_MECHANISM', 'required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set');
    }
    return undefined;
  }
  if (username === undefined) invalid('KAFKA_SASL_USERNAME', `required with KAFKA_SASL_MECHANISM=${mechanism}`);
  if (password === undefined) invalid('KAFKA_SASL_PASSWORD', `required with KAFKA_SASL_MECHANISM=${mechanism}`);
  return { mechanism, username, password };
}

function sslOf(settings: KafkaSecuritySettings, readCa: (path: string) => string): KafkaConfig['ssl'] {
  const caFile = settings.KAFKA_TLS_CA_FILE;
  if (!settings.KAFKA_TLS) {
    if (caFile !== undefined) invalid('KAFKA_TLS_CA_FILE', 'set, but KAFKA_TLS is not true');
    return undefined;
  }
  if (caFile === undefined) return true;
  let ca: string;
  try {
    ca = readCa(caFile);
  } catch (error) {
    return invalid('KAFKA_TLS_CA_FILE', `${caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) invalid('KAFKA_TLS_CA_FILE', `${caFile} holds no PEM certificate`);
  return { ca: [ca], rejectUnauthorized: true };
}

/**
 * The kafkajs `ssl`/`sasl` options of `settings` (parsed env). Throws CONFIG_INVALID naming the variable
 * for a half-configured SASL, a CA file without TLS, or a CA file that cannot be read. `readCa` is
 * injected for tests.
 */
export function kafkaSecurity(settings: KafkaSecuritySettings, readCa: (path: string) => string = (path) => readFileSync(path, 'utf8')): KafkaSecurity {
  const sasl = saslOf(settings);
  const ssl = sslOf(settings, readCa);
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl ? { sasl } : {}) };
}

/** What a log line may say about the connection: mechanism, user and TLS, never the password. */
export function describeKafkaSecurity(security: KafkaSecurity): string {
  const sasl = security.sasl && 'username' in security.sasl ? `SASL ${security.sasl.mechanism} as ${security.sasl.username}` : 'no SASL';
  const tls = security.ssl ? (typeof security.ssl === 'object' && security.ssl.ca ? 'TLS (own CA)' : 'TLS') : 'plaintext';
  return `${sasl}, ${tls}`;
}
