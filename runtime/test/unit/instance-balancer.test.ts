import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InstanceBalancer } from '../../src/dev/balancer.ts';
import { parseScale } from '../../src/dev/scale.ts';

const up = () => true;

test('spreads requests over instances, fewest in flight first, each up to its concurrency', async () => {
  const balancer = new InstanceBalancer([{ ready: up }, { ready: up }, { ready: up }], 2);
  const chosen = [];
  for (let i = 0; i < 6; i++) chosen.push(await balancer.enter());
  assert.deepEqual(chosen, [0, 1, 2, 0, 1, 2]);
  assert.deepEqual(balancer.active, [2, 2, 2]);
  const waiting = balancer.enter();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(balancer.waiting, 1, 'every instance is full: the seventh waits');
  balancer.leave(1);
  assert.equal(await waiting, 1, 'the freed place goes to the waiter');
});

test('an instance that is not ready gets nothing while another is ready, and work again once back', async () => {
  let secondReady = false;
  const balancer = new InstanceBalancer([{ ready: up }, { ready: () => secondReady }], 1);
  assert.equal(await balancer.enter(), 0);
  const waiting = balancer.enter();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(balancer.waiting, 1, 'the down instance has a free place but gets nothing');
  secondReady = true;
  assert.equal(await waiting, 1, 'picked up once ready (within a recheck)');
});

test('with no instance ready, requests go to any with a place (they fail fast and are retried)', async () => {
  const balancer = new InstanceBalancer([{ ready: () => false }], 1);
  assert.equal(await balancer.enter(), 0);
});

test('a waiter gives up when the signal aborts, leaving the places as they were', async () => {
  const balancer = new InstanceBalancer([{ ready: up }], 1);
  await balancer.enter();
  const stop = new AbortController();
  const waiting = balancer.enter(stop.signal);
  stop.abort();
  assert.equal(await waiting, undefined);
  assert.deepEqual(balancer.active, [1]);
  assert.equal(balancer.waiting, 0);
});

test('--scale parses function=instances lists and names what is wrong', () => {
  assert.deepEqual(parseScale('migrate-shard=4,rollout=2'), { scale: { 'migrate-shard': 4, rollout: 2 } });
  assert.deepEqual(parseScale(''), { scale: {} });
  for (const [text, problem] of [
    ['migrate-shard', /not function=instances/],
    ['shard=2', /"shard" is not a function/],
    ['verify=0', /1 to 64/],
    ['plan=65', /1 to 64/],
    ['plan=1,plan=2', /scaled twice/],
  ] as const) {
    const parsed = parseScale(text);
    assert.ok('problem' in parsed, text);
    assert.match(parsed.problem, problem);
  }
});
