/** Kafka SASL/TLS from the environment: each setting maps to the kafkajs options, a half-set one fails naming the variable, never the password. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostConfig, parseConfig } from '../../src/config.ts';
import { isUpshiftError } from '../../src/errors.ts';
import { describeKafkaSecurity, kafkaSecurity } from '../../src/transport/kafka-security.ts';
import type { KafkaSecurity } from '../../src/transport/kafka-security.ts';

const password = 'pa55-w0rd-never-shown';
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const base = { DATABASE_URL: 'postgres://db/x', KAFKA_BROKERS: 'kafka:9093' };
const files: Record<string, string> = { '/etc/kafka/ca.crt': pem, '/etc/kafka/empty.crt': '' };

function readCa(path: string): string {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return text;
}

/** The kafkajs options of `env` as a function host parses them. */
function securityOf(env: Record<string, string>): KafkaSecurity {
  return kafkaSecurity(parseConfig(HostConfig, { ...base, ...env }), readCa);
}

const mapped: readonly { name: string; env: Record<string, string>; expected: KafkaSecurity }[] = [
  { name: 'nothing set: plaintext, no auth (the local stack)', env: {}, expected: {} },
  { name: 'empty values count as unset', env: { KAFKA_SASL_MECHANISM: '', KAFKA_SASL_USERNAME: '', KAFKA_SASL_PASSWORD: '', KAFKA_TLS: '', KAFKA_TLS_CA_FILE: '' }, expected: {} },
  { name: 'KAFKA_TLS=false: plaintext', env: { KAFKA_TLS: 'false' }, expected: {} },
  { name: 'TLS with the system roots', env: { KAFKA_TLS: 'true' }, expected: { ssl: true } },
  { name: 'TLS with a private CA', env: { KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/etc/kafka/ca.crt' }, expected: { ssl: { ca: [pem], rejectUnauthorized: true } } },
  {
    name: 'SASL PLAIN over TLS',
    env: { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'upshift', KAFKA_SASL_PASSWORD: password, KAFKA_TLS: 'true' },
    expected: { ssl: true, sasl: { mechanism: 'plain', username: 'upshift', password } },
  },
  {
    name: 'SCRAM-SHA-256 without TLS (SASL_PLAINTEXT)',
    env: { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'upshift', KAFKA_SASL_PASSWORD: password },
    expected: { sasl: { mechanism: 'scram-sha-256', username: 'upshift', password } },
  },
  {
    name: 'SCRAM-SHA-512 written as Knative\'s Secret has it (upper case), over TLS with a private CA',
    env: { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'upshift', KAFKA_SASL_PASSWORD: password, KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/etc/kafka/ca.crt' },
    expected: { ssl: { ca: [pem], rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'upshift', password } },
  },
];

for (const { name, env, expected } of mapped) {
  test(`maps to kafkajs: ${name}`, () => {
    assert.deepEqual(securityOf(env), expected);
  });
}

const refused: readonly { name: string; env: Record<string, string>; variable: string; reason: RegExp }[] = [
  { name: 'a mechanism kafkajs does not speak', env: { KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: password }, variable: 'KAFKA_SASL_MECHANISM', reason: /plain, scram-sha-256, scram-sha-512/ },
  { name: 'a mechanism without a username', env: { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: password }, variable: 'KAFKA_SASL_USERNAME', reason: /required with KAFKA_SASL_MECHANISM=plain/ },
  { name: 'a mechanism without a password', env: { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' }, variable: 'KAFKA_SASL_PASSWORD', reason: /required/ },
  { name: 'credentials without a mechanism', env: { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: password }, variable: 'KAFKA_SASL_MECHANISM', reason: /required when/ },
  { name: 'KAFKA_TLS that is not a boolean', env: { KAFKA_TLS: 'yes' }, variable: 'KAFKA_TLS', reason: /true or false/ },
  { name: 'a CA file while TLS is off', env: { KAFKA_TLS_CA_FILE: '/etc/kafka/ca.crt' }, variable: 'KAFKA_TLS_CA_FILE', reason: /KAFKA_TLS is not true/ },
  { name: 'a CA file that does not exist', env: { KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/etc/kafka/missing.crt' }, variable: 'KAFKA_TLS_CA_FILE', reason: /missing\.crt cannot be read \(ENOENT\)/ },
  { name: 'a CA file without a certificate', env: { KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/etc/kafka/empty.crt' }, variable: 'KAFKA_TLS_CA_FILE', reason: /no PEM certificate/ },
];

for (const { name, env, variable, reason } of refused) {
  test(`refuses ${name}, naming ${variable} and never the password`, () => {
    assert.throws(() => securityOf(env), (error: unknown) => {
      assert.ok(isUpshiftError(error), String(error));
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, new RegExp(`${variable}: `));
      assert.match(error.message, reason);
      assert.doesNotMatch(JSON.stringify(error.toJSON()) + String(error.stack), new RegExp(password));
      return true;
    });
  });
}

test('what the host logs about the connection names mechanism, user and TLS, never the password', () => {
  const security = securityOf({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'upshift', KAFKA_SASL_PASSWORD: password, KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/etc/kafka/ca.crt' });
  assert.equal(describeKafkaSecurity(security), 'SASL scram-sha-512 as upshift, TLS (own CA)');
  assert.equal(describeKafkaSecurity(securityOf({})), 'no SASL, plaintext');
  assert.equal(describeKafkaSecurity(securityOf({ KAFKA_TLS: 'true' })), 'no SASL, TLS');
});
