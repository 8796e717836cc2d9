import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultStrategyThrottle, StrategyThrottle } from '@upshift/events/contract';
import {
  adaptiveInFlightBound, describeInFlight, growAfterMs, inFlightSetting, inFlightWhyChars, initialAdaptiveInFlight, nextInFlightCap, type InFlightObservation,
} from '../../src/core/batches-in-flight.ts';
import type { ThrottleDecision } from '../../src/core/throttle.ts';

const clear: ThrottleDecision = { state: 'clear', batchCap: undefined, pauseMs: 0, reason: '' };
const slowed: ThrottleDecision = { state: 'slowed', batchCap: 500, pauseMs: 50, reason: '1 session waiting for locks on public.orders' };
const held: ThrottleDecision = { state: 'held', batchCap: 500, pauseMs: 500, reason: '26 active sessions > 25' };
const auto = { adaptive: true, bound: adaptiveInFlightBound, initial: initialAdaptiveInFlight };

const observe = (overrides: Partial<InFlightObservation> & { cap?: number }): InFlightObservation => ({
  seen: { cap: overrides.cap ?? 4, why: '' }, setting: auto, decision: clear, batchMs: 90, targetBatchMs: 100, inFlightAtStart: overrides.cap ?? 4, ...overrides,
});

test('the cap adapts by default; a number is a fixed cap', () => {
  assert.equal(defaultStrategyThrottle.storeBatchesInFlight, 'auto');
  assert.deepEqual(inFlightSetting('auto'), { adaptive: true, bound: adaptiveInFlightBound, initial: initialAdaptiveInFlight });
  assert.deepEqual(inFlightSetting(3), { adaptive: false, bound: 3, initial: 3 });
  assert.equal(StrategyThrottle.parse({ storeBatchesInFlight: 2 }).storeBatchesInFlight, 2);
  assert.equal(StrategyThrottle.safeParse({ storeBatchesInFlight: 0 }).success, false, 'at least one batch in flight');
  assert.equal(StrategyThrottle.safeParse({ storeBatchesInFlight: 'fast' }).success, false, 'a number or auto');
});

test('the adaptive cap halves when the store shows contention (to 1 only when held), grows by one when quiet and full (more slowly), and says why', () => {
  const fixed2 = { adaptive: false, bound: 2, initial: 2 };
  const halved = (cap: number, why: string) => ({ next: { cap, why }, afterMs: 100 });
  const cases: Array<{ name: string; observation: InFlightObservation; next: { next: { cap: number; why: string }; afterMs: number } | undefined }> = [
    { name: 'writers waited on a batch: halved, one batch time after the last change', observation: observe({ cap: 8, decision: slowed }), next: halved(4, slowed.reason) },
    { name: 'a held store: halved', observation: observe({ cap: 5, decision: held, batchMs: undefined, inFlightAtStart: undefined }), next: halved(2, held.reason) },
    { name: 'a held store: down to 1', observation: observe({ cap: 2, decision: held, batchMs: undefined, inFlightAtStart: undefined }), next: halved(1, held.reason) },
    { name: 'writers waiting halve it no lower than 2', observation: observe({ cap: 3, decision: slowed }), next: halved(2, slowed.reason) },
    { name: 'at 2, writers waiting change nothing (the batch size shrinks instead)', observation: observe({ cap: 2, decision: slowed }), next: undefined },
    { name: 'at 1 (after a hold), writers waiting do not raise it', observation: observe({ cap: 1, decision: slowed }), next: undefined },
    { name: 'quiet, on target, every slot taken: one more, after a longer quiet', observation: observe({ cap: 4 }), next: { next: { cap: 5, why: 'quiet, batches on target' }, afterMs: growAfterMs } },
    { name: 'quiet but slots left over: the cap is not what limits', observation: observe({ cap: 4, inFlightAtStart: 2 }), next: undefined },
    { name: 'quiet and full but the batch took too long', observation: observe({ cap: 4, batchMs: 151 }), next: undefined },
    { name: 'a look without a batch never grows it', observation: observe({ cap: 4, batchMs: undefined, inFlightAtStart: undefined }), next: undefined },
    { name: 'never past the bound', observation: observe({ cap: adaptiveInFlightBound }), next: undefined },
    { name: 'a fixed cap never changes', observation: observe({ cap: 2, setting: fixed2, decision: slowed }), next: undefined },
    { name: 'a fixed cap never grows', observation: observe({ cap: 2, setting: fixed2 }), next: undefined },
  ];
  for (const c of cases) assert.deepEqual(nextInFlightCap(c.observation), c.next, c.name);
});

test('the cap reads as a few words in the shard\'s progress', () => {
  assert.equal(describeInFlight({ cap: 1, why: '2 sessions waiting for locks on public.orders', adaptive: true }), '≤ 1 store batch at once (auto: 2 sessions waiting for locks on public.orders)');
  assert.equal(describeInFlight({ cap: 3, why: '', adaptive: true }), '≤ 3 store batches at once (auto)');
  assert.equal(describeInFlight({ cap: 2, why: '', adaptive: false }), '≤ 2 store batches at once (fixed)');
  assert.equal(describeInFlight({ cap: 1, why: 'x'.repeat(500), adaptive: true }).length, '≤ 1 store batch at once (auto: )'.length + inFlightWhyChars, 'a long why is cut');
});
