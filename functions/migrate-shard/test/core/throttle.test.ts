import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultStrategyThrottle, StrategyThrottle } from '@upshift/events/contract';
import { blockedBetweenBatches, decideThrottle, describeThrottle, heldLookMs, nextThrottleState, slotLookMs, slotWaitMs, throttleNote } from '../../src/core/throttle.ts';
import type { StoreSignals } from '../../src/core/throttle.ts';

const limits = defaultStrategyThrottle;
const decide = (signals: StoreSignals, overrides: Partial<StrategyThrottle> = {}, lastBatchMs = 40) =>
  decideThrottle({ signals, limits: { ...limits, ...overrides }, batchSize: 800, lastBatchMs, target: 'public.orders' });

test('the defaults protect a busy primary', () => {
  assert.deepEqual(
    { lag: limits.maxReplicationLagSeconds, active: limits.maxActiveSessions, blocked: limits.maxBlockedSessions, target: limits.targetBatchMs, rate: limits.storeRowsPerSecond },
    { lag: 5, active: 25, blocked: 0, target: 100, rate: undefined });
});

test('signals under every limit leave the adaptive batch alone', () => {
  const cases: Array<{ name: string; signals: StoreSignals }> = [
    { name: 'a store that tells nothing (FerretDB)', signals: {} },
    { name: 'a quiet primary', signals: { blockedSessions: 0, activeSessions: 3, forcedCheckpoints: 0 } },
    { name: 'standbys within the lag', signals: { replicationLagSeconds: 4.9 } },
    { name: 'the operator query at its max', signals: { operatorValue: 10 } },
  ];
  for (const c of cases) {
    assert.deepEqual(decide(c.signals, { query: { max: 10, timeoutMs: 500 } }), { state: 'clear', batchCap: undefined, pauseMs: 0, reason: '' }, c.name);
  }
});

test('each crossed limit slows or holds the shard, and says why', () => {
  const query = { max: 10, timeoutMs: 500 };
  const cases: Array<{ name: string; signals: StoreSignals; state: string; pauseMs: number; reason: RegExp }> = [
    { name: 'writers waited for our locks', signals: { blockedSessions: 2 }, state: 'slowed', pauseMs: 20, reason: /^2 sessions waiting for locks on public\.orders$/ },
    { name: 'one blocked session is enough by default', signals: { blockedSessions: 1 }, state: 'slowed', pauseMs: 20, reason: /1 session waiting/ },
    { name: 'WAL volume forced a checkpoint', signals: { forcedCheckpoints: 1 }, state: 'slowed', pauseMs: 20, reason: /1 checkpoint forced by WAL volume/ },
    { name: 'a standby lags', signals: { replicationLagSeconds: 7.25 }, state: 'held', pauseMs: heldLookMs, reason: /standby lag 7\.3 s > 5 s/ },
    { name: 'too many active sessions', signals: { activeSessions: 26 }, state: 'held', pauseMs: heldLookMs, reason: /26 active sessions > 25/ },
    { name: 'the operator query above its max', signals: { operatorValue: 11 }, state: 'held', pauseMs: heldLookMs, reason: /throttle query 11 > 10/ },
    { name: 'the operator query failed', signals: { operatorValue: Number.POSITIVE_INFINITY }, state: 'held', pauseMs: heldLookMs, reason: /throttle query failed > 10/ },
    { name: 'held wins over slowed, both reasons kept', signals: { blockedSessions: 1, replicationLagSeconds: 9 }, state: 'held', pauseMs: heldLookMs, reason: /standby lag .*; 1 session waiting/ },
  ];
  for (const c of cases) {
    const decision = decide(c.signals, { query });
    assert.equal(decision.state, c.state, c.name);
    assert.equal(decision.pauseMs, c.pauseMs, c.name);
    assert.equal(decision.batchCap, 400, `${c.name}: the next batch is halved`);
    assert.match(decision.reason, c.reason, c.name);
  }
  assert.equal(decide({ blockedSessions: 1 }, {}, 180).pauseMs, 50, 'a long batch: half the target');
  assert.equal(decide({ blockedSessions: 1 }, {}, 4).pauseMs, 5, 'at least 5 ms');
  assert.equal(decideThrottle({ signals: { blockedSessions: 3 }, limits, batchSize: 12, lastBatchMs: 0, target: 't' }).batchCap, 10, 'never below 10 rows');
  assert.equal(decide({ blockedSessions: 2 }, { maxBlockedSessions: 2 }).state, 'clear', 'the limit itself is allowed');
});

test('sessions blocked on the table between batches are someone else\'s: the shard holds instead of queueing behind them', () => {
  const slowed = decide({ blockedSessions: 1 });
  const held = blockedBetweenBatches(slowed, { blockedSessions: 1 }, limits);
  assert.equal(held.state, 'held');
  assert.equal(held.pauseMs, heldLookMs);
  assert.match(held.reason, /not ours/);
  const behindShards = decide({ blockedSessions: 2, blockedByUpshift: 2 });
  assert.equal(blockedBetweenBatches(behindShards, { blockedSessions: 2, blockedByUpshift: 2 }, limits).state, 'slowed', 'behind other shards\' batches: slowed only');
  const checkpoint = decide({ forcedCheckpoints: 2 });
  assert.deepEqual(blockedBetweenBatches(checkpoint, { forcedCheckpoints: 2 }, limits), checkpoint, 'a forced checkpoint alone stays slowed');
});

test('the state keeps its start while it lasts, and reads as one phrase', () => {
  const held = decide({ activeSessions: 30 });
  const first = nextThrottleState(undefined, held, 1_000, ['replication lag']);
  const later = nextThrottleState(first, held, 4_000, ['replication lag']);
  assert.equal(later.since, 1_000);
  assert.equal(describeThrottle(later, 4_000), 'throttle held 3 s: 30 active sessions > 25; store gives no replication lag');
  const cleared = nextThrottleState(later, decide({}), 5_000, []);
  assert.deepEqual(cleared, { state: 'clear', reason: '', since: 5_000 });
  assert.equal(throttleNote(cleared, 5_000), '; throttle clear');
  assert.equal(throttleNote(undefined, 5_000), '');
  const capped = nextThrottleState(cleared, decide({}), 6_000, [], { cap: 1, why: '1 session waiting for locks on public.orders', adaptive: true });
  assert.equal(throttleNote(capped, 6_000), '; throttle clear; ≤ 1 store batch at once (auto: 1 session waiting for locks on public.orders)');
});

test('the policy section parses with its defaults and rejects nonsense', () => {
  assert.deepEqual(StrategyThrottle.parse({ targetBatchMs: 100 }), { ...limits, targetBatchMs: 100 });
  assert.equal(StrategyThrottle.safeParse({ maxLag: 3 }).success, false, 'unknown fields fail');
  assert.equal(StrategyThrottle.safeParse({ targetBatchMs: 1 }).success, false, 'a batch target under 5 ms');
  assert.equal(StrategyThrottle.parse({ query: { max: 3 } }).query?.timeoutMs, 500);
  assert.equal(StrategyThrottle.safeParse({ query: { sql: 'SELECT 1', max: 3 } }).success, false, 'a request carries no SQL: the query is the catalog\'s');
  assert.equal(StrategyThrottle.parse({ storeBatchesInFlight: 2 }).storeBatchesInFlight, 2);
  assert.equal(StrategyThrottle.safeParse({ storeBatchesInFlight: 0 }).success, false, 'at least one batch in flight');
  assert.equal(defaultStrategyThrottle.storeBatchesInFlight, 'auto', 'an adaptive cap by default');
});

const slotWaits: Array<{ name: string; freeAt: number | undefined; expected: number }> = [
  { name: 'until the first taken slot is expected back', freeAt: 1_080, expected: 80 },
  { name: 'a slot overdue: look again soon, not at once', freeAt: 900, expected: slotLookMs },
  { name: 'no slot expected back (lost a race): soon', freeAt: undefined, expected: slotLookMs },
  { name: 'a long batch: at most the held look', freeAt: 30_000, expected: heldLookMs },
];
for (const { name, freeAt, expected } of slotWaits) {
  test(`every batch slot taken: waits ${name}`, () => assert.equal(slotWaitMs(freeAt, 1_000), expected));
}
