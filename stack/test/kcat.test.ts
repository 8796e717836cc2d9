/**
 * The stack brings kcat with its Kafka (stack/src/kcat.ts), so the CloudEvents interop tests
 * (events/test/kafka.test.ts) run wherever `npm test` runs: it is installed and talks to the stack's broker.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { installKcat, kcatVersion } from '../src/kcat.ts';

test('kcat is installed with the stack and lists the stack\'s broker', async () => {
  const brokers = process.env.KAFKA_BROKERS;
  assert.ok(brokers, 'KAFKA_BROKERS must be set (run through `npm test`)');
  await installKcat(); // what `up` did; a no-op when kcat is there
  assert.match(kcatVersion() ?? '', /kcat/i);
  const metadata = JSON.parse(execFileSync('kcat', ['-b', brokers, '-L', '-J'], { encoding: 'utf8', timeout: 30_000 })) as { brokers: { name: string }[] };
  assert.ok(metadata.brokers.length >= 1, 'kcat read the cluster metadata');
});
