/** The CLI reaches a secured Kafka with the functions' variables (SASL/TLS), and never with half a setting. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliKafkaConfig } from '../../src/publish.ts';

test('no Kafka security variables: plaintext, no SASL', () => {
  const config = cliKafkaConfig(['k:9092'], 'upshift-cli', {});
  assert.equal(config.sasl, undefined);
  assert.equal(config.ssl, undefined);
});

test('SASL SCRAM over TLS from the same variables the functions read', () => {
  const config = cliKafkaConfig(['k:9093'], 'upshift-cli', { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'ops', KAFKA_SASL_PASSWORD: 's3cret', KAFKA_TLS: 'true' });
  assert.deepEqual(config.sasl, { mechanism: 'scram-sha-512', username: 'ops', password: 's3cret' });
  assert.equal(config.ssl, true);
});

test('a half-configured SASL names the missing variable and never the password', () => {
  assert.throws(() => cliKafkaConfig(['k:9093'], 'upshift-cli', { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 's3cret' }), (error: Error) => {
    assert.match(error.message, /KAFKA_SASL_USERNAME/);
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
});
