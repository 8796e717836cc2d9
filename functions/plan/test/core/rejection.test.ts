/**
 * The rejection plan emits is valid whatever it is asked to say: thousands of problems, megabyte paths
 * and messages, control characters, a reason too long, a policy name that breaks the schema, values that
 * are not text at all. Emitting it (createEvent validates against the schema) never throws.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEvent, encodeKafka, problemLimits, UpgradeRejected, type AnyUpshiftEvent, type FieldProblem } from '@upshift/events';
import { rejectionOf } from '../../src/core/rejection.ts';

const runId = '0196b7c2-5f7a-7b11-8a3e-2c1d4e5f6a7b';

test('thousands of huge problems become a short, valid upgrade.rejected', () => {
  const problems: FieldProblem[] = Array.from({ length: 5000 }, (_, i) => ({
    path: `spec["${'k'.repeat(20_000)}${i}\n\u001b[2J"]`,
    message: `unknown field ${'m'.repeat(20_000)}\u202e`,
  }));
  const data = rejectionOf({ runId, code: 'invalid-policy', reason: `the policy is invalid ${'r'.repeat(10_000)}`, problems });
  assert.ok(UpgradeRejected.safeParse(data).success);
  assert.equal(data.problems.length, problemLimits.listed);
  assert.deepEqual(data.problems.at(-1), { path: '(more)', message: 'and 4951 more problem(s) not listed' });
  // eslint-disable-next-line no-control-regex -- the test looks for control characters that escaped escaping
  assert.ok(data.problems.every((p) => p.path.length <= problemLimits.textChars && p.message.length <= problemLimits.textChars && !/[\u0000-\u001f\u202e]/.test(p.path + p.message)));
  assert.ok(data.reason.length <= problemLimits.reasonChars);
  const event = createEvent('upgrade.rejected', data, { producer: 'plan' }) as AnyUpshiftEvent;
  const record = encodeKafka(event);
  assert.ok(Buffer.byteLength(record.value) < 30_000, `${Buffer.byteLength(record.value)} bytes on the wire`);
});

test('problems within bounds pass unchanged', () => {
  const problems = [{ path: 'spec.services[0].image', message: 'must be an image reference' }];
  const data = rejectionOf({ runId, policyName: 'shop', code: 'invalid-policy', reason: 'the policy is invalid', problems });
  assert.deepEqual(data, { runId, policyName: 'shop', code: 'invalid-policy', reason: 'the policy is invalid', problems });
});

test('what cannot be made valid falls back to a short rejection that always fits', () => {
  const badName = rejectionOf({ runId, policyName: 'Not A DNS Name', code: 'preflight-failed', reason: 'x', problems: [{ path: 'spec', message: 'm' }] });
  assert.deepEqual(badName, { runId, code: 'preflight-failed', reason: 'the request was refused (preflight-failed); its 1 problem(s) could not be reported', problems: [] });
  const notText = rejectionOf({ runId, code: 'invalid-policy', reason: 'x', problems: [{ path: 42, message: { toString: null } }] as unknown as FieldProblem[] });
  assert.ok(UpgradeRejected.safeParse(notText).success);
  assert.deepEqual(notText.problems, [{ path: '(root)', message: 'invalid' }]);
  const emptyReason = rejectionOf({ runId, code: 'no-safe-order', reason: '', problems: [] });
  assert.equal(emptyReason.reason, 'the request was refused (no-safe-order)');
  for (const data of [badName, notText, emptyReason]) assert.doesNotThrow(() => createEvent('upgrade.rejected', data, { producer: 'plan' }));
});
