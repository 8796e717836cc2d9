import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchErrorVerdict, failureReason, isolated, nextIsolation, startIsolation } from '../../src/core/failure.ts';
import type { Isolation } from '../../src/core/failure.ts';

test('engine error codes map to retry, row isolation or a failed shard', () => {
  const cases = [
    { code: 'THROTTLED', verdict: 'retry-later' }, { code: 'UNAVAILABLE', verdict: 'retry-later' }, { code: undefined, verdict: 'retry-later' },
    { code: 'STORE_REJECTED', verdict: 'isolate-row' }, { code: 'TRANSFORM_FAILED', verdict: 'isolate-row' },
    { code: 'PREFLIGHT_FAILED', verdict: 'fail-shard' }, { code: 'CONNECTION_MISSING', verdict: 'fail-shard' }, { code: 'CATALOG_INVALID', verdict: 'fail-shard' },
  ] as const;
  for (const c of cases) assert.equal(batchErrorVerdict(c.code), c.verdict, String(c.code));
});

/** Simulates bisection over a page whose row `bad` (0-based) is rejected; returns the rows committed before it and the batches run. */
function bisect(batchSize: number, bad: number | null): { committed: number; batches: number; found: boolean } {
  let isolation: Isolation = startIsolation(batchSize);
  let committed = 0;
  let batches = 0;
  while (isolation.window > 0) {
    batches += 1;
    const succeeded = bad === null || committed + isolation.size <= bad;
    if (isolated(isolation, succeeded)) return { committed, batches, found: true };
    if (succeeded) committed += isolation.size;
    isolation = nextIsolation(isolation, succeeded);
  }
  return { committed, batches, found: false };
}

test('bisection narrows a rejected page to its first failing row in O(log n) batches', () => {
  const cases = [
    { batchSize: 1000, bad: 0 }, { batchSize: 1000, bad: 999 }, { batchSize: 1000, bad: 517 },
    { batchSize: 7, bad: 3 }, { batchSize: 2, bad: 1 }, { batchSize: 1, bad: 0 }, { batchSize: 50_000, bad: 31_337 },
  ];
  for (const c of cases) {
    const result = bisect(c.batchSize, c.bad);
    assert.deepEqual({ found: result.found, committed: result.committed }, { found: true, committed: c.bad }, JSON.stringify(c));
    assert.ok(result.batches <= 2 * Math.ceil(Math.log2(c.batchSize + 1)) + 2, `${JSON.stringify(c)}: ${result.batches} batches`);
  }
});

test('bisection gives up narrowing when the failure went away', () => {
  assert.deepEqual(bisect(100, null), { committed: 100, batches: 2, found: false });
});

test('the failure reason names the row, the database error and the checkpoint', () => {
  const cases = [
    { failure: { error: 'violates check constraint "c"', key: '42', keyKnown: true, lastKey: '41' }, expect: /row 42 cannot be migrated: violates check constraint "c" \(last committed key 41\)/ },
    { failure: { error: 'boom', key: '41', keyKnown: false, lastKey: '41' }, expect: /the first row after key 41 cannot be migrated/ },
    { failure: { error: 'boom', key: null, keyKnown: false, lastKey: null }, expect: /the first row of the shard .*no row committed yet/ },
  ];
  for (const c of cases) assert.match(failureReason('r:m@1:0', c.failure), c.expect);
  assert.equal(failureReason('r:m@1:0', { error: 'x'.repeat(5000), key: null, keyKnown: false, lastKey: null }).length, 2000);
});
