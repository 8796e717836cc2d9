/** upshift's KafkaConnection maps onto the client's options: what it sets, and nothing it leaves unset (the client's defaults hold). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logLevel } from 'kafkajs';
import { kafkaConfigOf } from '../../src/kafka/client.ts';

test('only brokers: the upshift client id, error logs, and the client defaults for the rest', () => {
  const config = kafkaConfigOf({ brokers: ['k:9092'] });
  assert.equal(config.clientId, 'upshift');
  assert.deepEqual(config.brokers, ['k:9092']);
  assert.equal(config.logLevel, logLevel.ERROR);
  for (const unset of ['ssl', 'sasl', 'connectionTimeout', 'retry'] as const) assert.equal(unset in config, false, unset);
});

test('every option lands where the client reads it, SASL per mechanism and TLS as given', () => {
  const ca = '-----BEGIN CERTIFICATE-----\n…';
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    const config = kafkaConfigOf({
      brokers: ['a:9093', 'b:9093'], clientId: 'release-bot', ssl: { ca: [ca] }, sasl: { mechanism, username: 'ops', password: 's3cret' },
      connectionTimeoutMs: 5000, retries: 3, logs: 'none',
    });
    assert.deepEqual(config, {
      clientId: 'release-bot', brokers: ['a:9093', 'b:9093'], logLevel: logLevel.NOTHING, ssl: { ca: [ca] },
      sasl: { mechanism, username: 'ops', password: 's3cret' }, connectionTimeout: 5000, retry: { retries: 3 },
    });
  }
  assert.equal(kafkaConfigOf({ brokers: ['k:9093'], ssl: true }).ssl, true);
});

test('the brokers list is copied, so the client never shares the caller\'s array', () => {
  const brokers = ['k:9092'];
  const config = kafkaConfigOf({ brokers });
  assert.notEqual(config.brokers, brokers);
});
