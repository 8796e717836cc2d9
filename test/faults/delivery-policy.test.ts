/**
 * The one delivery policy, checked where it matters: its retry window outlasts a dead worker's shard
 * lease plus a restart (so a `kill -9` never dead-letters a shard), the generated Knative manifests
 * carry exactly it, and migrate-shard sizes its shard slots from the concurrency the platform sends.
 * No stack needed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FunctionName } from '@upshift/events';
import { backoffDelay, CONCURRENCY_VARIABLE, deliveryPolicy, functionLimits, retryWindowMs } from '@upshift/runtime/delivery';
import { parseAllDocuments } from 'yaml';
import { MigrateShardConfig, SHARD_LEASE_TTL_DEFAULT_MS } from '../../functions/migrate-shard/src/config.ts';

/** How long a function process takes to come back after a crash (`upshift dev` measured ~7 s; a pod similar). */
const restartAllowanceMs = 10_000;

test('the retry window outlasts a dead worker: its shard lease (default TTL) plus a restart', () => {
  const needed = SHARD_LEASE_TTL_DEFAULT_MS + restartAllowanceMs;
  const waits = Array.from({ length: deliveryPolicy.retries }, (_, i) => backoffDelay(deliveryPolicy, i + 1));
  const window = retryWindowMs(deliveryPolicy);
  console.log(`retry window ${waits.map((ms) => ms / 1000).join(' + ')} = ${window / 1000} s > lease ${SHARD_LEASE_TTL_DEFAULT_MS / 1000} s + restart ${restartAllowanceMs / 1000} s`);
  assert.equal(window, waits.reduce((sum, ms) => sum + ms, 0));
  assert.ok(window > needed, `window ${window} ms must exceed ${needed} ms`);
  // Some implementations count the first retry as 0 (backoffDelay·2^(n-1)): half the window, still enough.
  assert.ok(window / 2 > needed, `even a retry count from 0 (${window / 2} ms) exceeds ${needed} ms`);
  assert.equal(deliveryPolicy.maxDelayMs, undefined, 'no cap: Knative has none by default, so dev and cluster agree');
});

test('a 429 is retried for far longer than the window: backpressure outlasts any shard', () => {
  const budget = 20_000; // UPSHIFT_SHARD_BUDGET_MS default: the longest one shard invocation works
  assert.ok(deliveryPolicy.throttledCeilingMs > 10 * budget);
  assert.ok(deliveryPolicy.throttledMaxDelayMs <= 2000, 'a freed slot is taken within 2 s');
});

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: {
    template?: { spec: { containerConcurrency: number; timeoutSeconds: number; containers: { env: { name: string; value?: string }[] }[] } };
    delivery?: { retry: number; backoffPolicy: string; backoffDelay: string; timeout: string };
  };
}

for (const fn of FunctionName.options) {
  test(`${fn}: the Knative manifests carry the shared delivery policy and limits`, () => {
    const documents = parseAllDocuments(readFileSync(new URL(`../../knative/base/${fn}.yaml`, import.meta.url), 'utf8')).map((d) => d.toJS() as Manifest);
    const service = documents.find((d) => d.kind === 'Service');
    const source = documents.find((d) => d.kind === 'KafkaSource');
    const limits = functionLimits[fn];
    assert.deepEqual(
      { retry: source?.spec.delivery?.retry, backoffPolicy: source?.spec.delivery?.backoffPolicy, backoffDelay: source?.spec.delivery?.backoffDelay, timeout: source?.spec.delivery?.timeout },
      { retry: deliveryPolicy.retries, backoffPolicy: deliveryPolicy.backoffPolicy, backoffDelay: `PT${deliveryPolicy.backoffDelayMs / 1000}S`, timeout: `PT${limits.timeoutSeconds}S` },
    );
    assert.equal(service?.spec.template?.spec.containerConcurrency, limits.containerConcurrency);
    assert.equal(service?.spec.template?.spec.timeoutSeconds, limits.timeoutSeconds);
    const env = service?.spec.template?.spec.containers[0]?.env ?? [];
    assert.equal(env.find((e) => e.name === CONCURRENCY_VARIABLE)?.value, String(limits.containerConcurrency), 'the pod is told its concurrency');
  });
}

test('migrate-shard works as many shards at once as the platform sends, unless told otherwise', () => {
  const base = { DATABASE_URL: 'postgres://localhost/x', KAFKA_BROKERS: 'localhost:9092' };
  const slots = (env: Record<string, string>) => MigrateShardConfig.parse({ ...base, ...env }).UPSHIFT_SHARD_CONCURRENCY;
  assert.equal(slots({ [CONCURRENCY_VARIABLE]: '3' }), 3, 'what upshift dev or Knative sends');
  assert.equal(slots({ [CONCURRENCY_VARIABLE]: '3', UPSHIFT_SHARD_CONCURRENCY: '2' }), 2, 'an explicit cap wins');
  assert.equal(slots({}), 4, 'neither: 4');
  assert.equal(MigrateShardConfig.parse(base).UPSHIFT_SHARD_LEASE_TTL_MS, SHARD_LEASE_TTL_DEFAULT_MS);
});
