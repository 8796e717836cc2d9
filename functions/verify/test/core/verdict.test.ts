import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideVerdict, type CheckResult } from '../../src/core/verdict.ts';

const pass = (name: string): CheckResult => ({ name, kind: 'invariants', passed: true, message: 'ok' });
const fail = (name: string, message: string): CheckResult => ({ name, kind: 'noOldVersion', passed: false, message });

const cases: Array<{ name: string; input: Parameters<typeof decideVerdict>[0]; expected: ReturnType<typeof decideVerdict> }> = [
  { name: 'everything passed completes', input: { failedShards: [], checks: [pass('a')], failurePolicy: 'rollback', contract: false }, expected: { kind: 'complete', contract: false } },
  { name: 'everything passed with contract asks for it', input: { failedShards: [], checks: [pass('a')], failurePolicy: 'freeze', contract: true }, expected: { kind: 'complete', contract: true } },
  { name: 'a failed shard rolls back at the migrate stage', input: { failedShards: ['s-3: duplicate key'], checks: [pass('a')], failurePolicy: 'rollback', contract: false }, expected: { kind: 'rollback', stage: 'migrate', reason: 'shard s-3: duplicate key' } },
  { name: 'a failed check freezes at the verify stage under freeze', input: { failedShards: [], checks: [pass('a'), fail('no-old-version', '12 rows at schema_version 1')], failurePolicy: 'freeze', contract: true }, expected: { kind: 'freeze', stage: 'verify', reason: 'check no-old-version: 12 rows at schema_version 1' } },
  { name: 'shard and check failures are both named', input: { failedShards: ['s-1: boom'], checks: [fail('inv', 'x')], failurePolicy: 'rollback', contract: false }, expected: { kind: 'rollback', stage: 'migrate', reason: 'shard s-1: boom; check inv: x' } },
];

for (const c of cases) {
  test(`verdict: ${c.name}`, () => assert.deepEqual(decideVerdict(c.input), c.expected));
}

test('verdict: a very long reason is cut to the contract limit', () => {
  const verdict = decideVerdict({ failedShards: Array.from({ length: 500 }, (_, i) => `shard-${i}: constraint violated`), checks: [], failurePolicy: 'rollback', contract: false });
  assert.ok(verdict.kind === 'rollback' && verdict.reason.length === 2000 && verdict.reason.endsWith('…'));
});
