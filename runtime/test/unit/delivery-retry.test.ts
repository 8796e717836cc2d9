/**
 * The dispatcher's retry loop without Kafka or HTTP: a 429 is backpressure (retried without
 * spending the retries, up to a ceiling), other retriable answers spend them with the policy's
 * backoff.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliverWithRetry } from '../../src/dev/deliver.ts';
import type { AttemptResult, ResolvedRetryPolicy } from '../../src/dev/deliver.ts';
import { backoffDelay, deliveryPolicy } from '../../src/dev/delivery-policy.ts';

const policy: ResolvedRetryPolicy = { ...deliveryPolicy, retries: 2, backoffDelayMs: 100, requestTimeoutMs: 1000 };

/** Answers `statuses` in order (then 200), recording the waits asked for, on a clock that the waits advance. */
function script(statuses: number[]) {
  let clock = 0;
  const waits: number[] = [];
  const answers = [...statuses];
  return {
    waits,
    attempt: async (): Promise<AttemptResult> => ({ status: answers.shift() ?? 200, body: 'answer' }),
    pause: async (ms: number) => { waits.push(ms); clock += ms; return true; },
    now: () => clock,
  };
}

const cases: Array<{ name: string; statuses: number[]; kind: string; attempts: number; throttled: number }> = [
  { name: 'first attempt answered', statuses: [], kind: 'delivered', attempts: 1, throttled: 0 },
  { name: '30 answers of 429 spend none of the 2 retries', statuses: Array<number>(30).fill(429), kind: 'delivered', attempts: 31, throttled: 30 },
  { name: '429s between 409s: only the 409s count', statuses: [409, 429, 429, 409, 429], kind: 'delivered', attempts: 6, throttled: 3 },
  { name: 'three 503s exhaust 2 retries', statuses: [503, 503, 503], kind: 'dead-letter', attempts: 3, throttled: 0 },
  { name: 'a 400 is not retried', statuses: [400], kind: 'dead-letter', attempts: 1, throttled: 0 },
  { name: 'connection refused (status 0) is retried', statuses: [0, 0], kind: 'delivered', attempts: 3, throttled: 0 },
];

for (const c of cases) {
  test(`delivery: ${c.name}`, async () => {
    const s = script(c.statuses);
    const outcome = await deliverWithRetry(s.attempt, policy, s.pause, s.now);
    assert.equal(outcome.kind, c.kind);
    assert.equal(outcome.attempts, c.attempts);
    assert.equal(outcome.throttled, c.throttled);
  });
}

test('failures wait the policy backoff (retry n: backoffDelay·2^n); throttled attempts wait short and apart', async () => {
  const s = script([409, 409, 409]);
  await deliverWithRetry(s.attempt, policy, s.pause, s.now);
  assert.deepEqual(s.waits, [backoffDelay(policy, 1), backoffDelay(policy, 2)]);
  assert.deepEqual(s.waits, [200, 400]);
  const throttled = script(Array<number>(20).fill(429));
  await deliverWithRetry(throttled.attempt, policy, throttled.pause, throttled.now);
  assert.ok(throttled.waits.every((ms) => ms > 0 && ms <= policy.throttledMaxDelayMs), JSON.stringify(throttled.waits));
  assert.equal(Math.max(...throttled.waits), policy.throttledMaxDelayMs, 'the throttled backoff grows to its cap');
});

test('past the ceiling a 429 counts like any retriable failure, so nothing is retried for ever', async () => {
  const s = script(Array<number>(10_000).fill(429));
  const outcome = await deliverWithRetry(s.attempt, { ...policy, throttledCeilingMs: 60_000 }, s.pause, s.now);
  assert.equal(outcome.kind, 'dead-letter');
  assert.match(outcome.kind === 'dead-letter' ? outcome.reason : '', /retries exhausted .* HTTP 429/);
  assert.ok(s.now() >= 60_000 && s.now() < 60_000 + 3 * policy.throttledMaxDelayMs + 1000, `gave up soon after the ceiling (${s.now()} ms)`);
});

test('stopping while waiting for a place or between attempts aborts without a verdict', async () => {
  assert.deepEqual(await deliverWithRetry(async () => undefined, policy, async () => true), { kind: 'aborted', attempts: 0, throttled: 0 });
  const outcome = await deliverWithRetry(async () => ({ status: 503, body: '' }), policy, async () => false);
  assert.deepEqual(outcome, { kind: 'aborted', attempts: 1, throttled: 0 });
});
