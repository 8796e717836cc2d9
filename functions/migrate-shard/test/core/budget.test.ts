import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressDue, shouldHandOver } from '../../src/core/budget.ts';

test('hands a shard over when the next batch would likely end past the budget', () => {
  const cases = [
    { name: 'fresh invocation, fast batch', startedAt: 0, now: 100, budgetMs: 20_000, lastBatchMs: 50, handOver: false },
    { name: 'next batch would cross the budget', startedAt: 0, now: 19_900, budgetMs: 20_000, lastBatchMs: 200, handOver: true },
    { name: 'exactly at the budget', startedAt: 0, now: 20_000, budgetMs: 20_000, lastBatchMs: 0, handOver: true },
    { name: 'tiny budget: one batch per hop', startedAt: 0, now: 5, budgetMs: 200, lastBatchMs: 300, handOver: true },
    { name: 'zero budget always hands over', startedAt: 0, now: 0, budgetMs: 0, lastBatchMs: 0, handOver: true },
  ];
  for (const c of cases) assert.equal(shouldHandOver(c), c.handOver, c.name);
});

test('reports progress at most once per interval per shard', () => {
  const cases = [
    { name: 'first report of an invocation', last: null, now: 5, interval: 1000, due: true },
    { name: 'too soon', last: 1000, now: 1999, interval: 1000, due: false },
    { name: 'a second later', last: 1000, now: 2000, interval: 1000, due: true },
    { name: 'interval 0 reports every batch', last: 1000, now: 1000, interval: 0, due: true },
  ];
  for (const c of cases) assert.equal(progressDue(c.last, c.now, c.interval), c.due, c.name);
});
