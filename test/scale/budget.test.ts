/**
 * The connection budget's configuration (runtime/README.md, "Connection budget"): the control-store pool
 * follows the instance's concurrency unless UPSHIFT_CONTROL_POOL_MAX says otherwise, and migrate-shard's
 * engine pool follows its shard slots unless UPSHIFT_STORE_POOL_SIZE does. No stack needed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MigrateShardConfig } from '../../functions/migrate-shard/src/config.ts';
import { HostConfig } from '../../runtime/src/config.ts';
import { controlPoolMax } from '../../runtime/src/store/pool.ts';

const base = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', KAFKA_BROKERS: '127.0.0.1:9092' };

test('control-store pool: 2 + 2 per request in flight, at most 10; 10 when the concurrency is unknown', () => {
  for (const [concurrency, max] of [[undefined, 10], [1, 4], [2, 6], [4, 10], [10, 10], [100, 10]] as const) {
    assert.equal(controlPoolMax(concurrency), max, `concurrency ${concurrency}`);
  }
});

test('UPSHIFT_CONTROL_POOL_MAX is read at start and bounded', () => {
  assert.equal(HostConfig.parse({ ...base, UPSHIFT_CONTROL_POOL_MAX: '6' }).UPSHIFT_CONTROL_POOL_MAX, 6);
  assert.equal(HostConfig.parse(base).UPSHIFT_CONTROL_POOL_MAX, undefined);
  assert.equal(HostConfig.safeParse({ ...base, UPSHIFT_CONTROL_POOL_MAX: '1' }).success, false, 'a decision and a heartbeat need two');
});

test('migrate-shard engine pool: shard slots + 1, at most 4, unless set', () => {
  const poolOf = (env: Record<string, string>) => MigrateShardConfig.parse({ ...base, ...env }).UPSHIFT_STORE_POOL_SIZE;
  assert.equal(poolOf({ UPSHIFT_CONTAINER_CONCURRENCY: '1' }), 2, 'a Knative pod of containerConcurrency 1');
  assert.equal(poolOf({ UPSHIFT_CONTAINER_CONCURRENCY: '4' }), 4, 'one upshift dev process of 4 slots');
  assert.equal(poolOf({}), 4);
  assert.equal(poolOf({ UPSHIFT_CONTAINER_CONCURRENCY: '1', UPSHIFT_STORE_POOL_SIZE: '8' }), 8);
});
