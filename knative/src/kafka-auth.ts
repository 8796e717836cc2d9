/**
 * Kafka SASL/TLS in the manifests, from install.yaml `kafka` and one Secret, upshift-kafka-auth, whose
 * keys follow Knative's KafkaSink convention (protocol, sasl.mechanism, user, password, ca.crt) so the
 * same Secret serves the KafkaSources (`spec.net`), the dead-letter KafkaSink (`spec.auth`) and the
 * functions' own kafkajs client (KAFKA_SASL_*, KAFKA_TLS, KAFKA_TLS_CA_FILE: runtime kafka-security.ts).
 */
import type { InstallSettings } from './install.ts';
import { KAFKA_AUTH_SECRET, KAFKA_CA_DIR } from './spec.ts';

type KafkaSettings = InstallSettings['kafka'];

/** The Secret's key for each value. */
export const KAFKA_AUTH_KEYS = { mechanism: 'sasl.mechanism', user: 'user', password: 'password', caCert: 'ca.crt' } as const;

const fromSecret = (key: string) => ({ secretKeyRef: { name: KAFKA_AUTH_SECRET, key } });

/** A KafkaSource's `spec.net` (sources.knative.dev/v1), or nothing for plaintext without auth. */
export function kafkaSourceNet(kafka: KafkaSettings): { net?: Record<string, unknown> } {
  if (!kafka.sasl && !kafka.tls) return {};
  return {
    net: {
      ...(kafka.sasl ? {
        sasl: { enable: true, user: fromSecret(KAFKA_AUTH_KEYS.user), password: fromSecret(KAFKA_AUTH_KEYS.password), type: fromSecret(KAFKA_AUTH_KEYS.mechanism) },
      } : {}),
      ...(kafka.tls ? { tls: { enable: true, ...(kafka.caCert ? { caCert: fromSecret(KAFKA_AUTH_KEYS.caCert) } : {}) } } : {}),
    },
  };
}

/** A KafkaSink's `spec.auth` (eventing.knative.dev/v1alpha1: the Secret's `protocol` key says SASL_SSL, SSL or SASL_PLAINTEXT). */
export function kafkaSinkAuth(kafka: KafkaSettings): { auth?: Record<string, unknown> } {
  return kafka.sasl || kafka.tls ? { auth: { secret: { ref: { name: KAFKA_AUTH_SECRET } } } } : {};
}

/** The file a function reads the CA from (KAFKA_TLS_CA_FILE). */
export const KAFKA_CA_FILE = `${KAFKA_CA_DIR}/${KAFKA_AUTH_KEYS.caCert}`;

/** The functions' literal Kafka settings: TLS on or off, and the CA file when the install trusts a private CA. */
export function kafkaLiteralEnv(kafka: KafkaSettings): Record<string, string> {
  return { KAFKA_TLS: String(kafka.tls), ...(kafka.tls && kafka.caCert ? { KAFKA_TLS_CA_FILE: KAFKA_CA_FILE } : {}) };
}

/**
 * The functions' SASL variables from the Secret, each optional: without the Secret (plaintext Kafka)
 * a pod still starts and its client connects without auth.
 */
export function kafkaSecretEnv() {
  const optional = (key: string) => ({ secretKeyRef: { name: KAFKA_AUTH_SECRET, key, optional: true } });
  return [
    { name: 'KAFKA_SASL_MECHANISM', valueFrom: optional(KAFKA_AUTH_KEYS.mechanism) },
    { name: 'KAFKA_SASL_USERNAME', valueFrom: optional(KAFKA_AUTH_KEYS.user) },
    { name: 'KAFKA_SASL_PASSWORD', valueFrom: optional(KAFKA_AUTH_KEYS.password) },
  ];
}

/** The volume and mount of the CA (only its ca.crt key), when the install trusts a private CA. */
export function kafkaCaVolume(kafka: KafkaSettings): { mount: { name: string; mountPath: string; readOnly: true }; volume: Record<string, unknown> } | null {
  if (!kafka.tls || !kafka.caCert) return null;
  return {
    mount: { name: 'kafka-ca', mountPath: KAFKA_CA_DIR, readOnly: true },
    volume: { name: 'kafka-ca', secret: { secretName: KAFKA_AUTH_SECRET, items: [{ key: KAFKA_AUTH_KEYS.caCert, path: KAFKA_AUTH_KEYS.caCert }], optional: true } },
  };
}
