import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
const kafka = new Kafka({ clientId: 'stack-test', brokers, logLevel: logLevel.NOTHING });
const topic = `stack-test-${randomUUID()}`;
const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
const total = 1000;
let admin: Admin;

before(async () => {
  assert.ok(brokers.length > 0, 'KAFKA_BROKERS must be set (run through `npm test`)');
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
});

after(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

/** Reads `count` messages from the start of the topic in a fresh consumer group; returns [key, seq] pairs in arrival order. */
async function readAll(groupId: string, count: number): Promise<Array<[string, number]>> {
  const consumer: Consumer = kafka.consumer({ groupId });
  const seen: Array<[string, number]> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length}/${count} messages within 60s`)), 60_000);
    consumer.run({
      eachMessage: async ({ message }) => {
        seen.push([message.key?.toString() ?? '', Number(message.value?.toString())]);
        if (seen.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  try {
    await done;
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

test('a topic with 3 partitions carries 1,000 keyed messages in per-key order to two consumer groups', async () => {
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: total }, (_, seq) => ({ key: keys[seq % keys.length] ?? 'none', value: String(seq) }));
  for (let i = 0; i < messages.length; i += 100) await producer.send({ topic, messages: messages.slice(i, i + 100) });
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets(topic);
  assert.equal(offsets.length, 3);
  assert.equal(offsets.reduce((sum, p) => sum + Number(p.high), 0), total);
  assert.ok(offsets.filter((p) => Number(p.high) > 0).length >= 2, 'keys spread over several partitions');

  for (const group of [`g1-${randomUUID()}`, `g2-${randomUUID()}`]) {
    const seen = await readAll(group, total);
    assert.equal(seen.length, total);
    assert.deepEqual(new Set(seen.map(([, seq]) => seq)).size, total);
    for (const key of keys) {
      const sequence = seen.filter(([k]) => k === key).map(([, seq]) => seq);
      assert.deepEqual(sequence, [...sequence].sort((a, b) => a - b), `messages of key ${key} arrive in order`);
    }
  }
});
