import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterShards as decideFanIn, type FanInStep, type MigrationFanIn } from '../../src/lifecycle/stages.ts';

/** A migration after `afterWave` with `total` shards, `final` of them final, `failed` of those failed. */
const m = (ref: string, afterWave: number, total: number, final: number, failed = 0): MigrationFanIn => ({ ref, afterWave, total, final, failed });

// Waves 0..5 (last 5): customers-profile after wave 1, orders-currency after wave 3, audit after the last.
const cases: Array<{ name: string; migrations: MigrationFanIn[]; expected: FanInStep }> = [
  {
    name: 'shards of the first stage still running: wait',
    migrations: [m('customers-profile@1', 1, 4, 3), m('orders-currency@1', 3, 0, 0)],
    expected: { kind: 'wait', fanIn: { total: 4, final: 3, failed: 0 } },
  },
  {
    name: 'the first stage all completed, waves remain: the wave after it',
    migrations: [m('customers-profile@1', 1, 4, 4), m('orders-currency@1', 3, 0, 0), m('audit@1', 5, 0, 0)],
    expected: { kind: 'next-wave', wave: 2, fanIn: { total: 4, final: 4, failed: 0 } },
  },
  {
    name: 'a failed shard before the last wave: the failure policy, at once',
    migrations: [m('customers-profile@1', 1, 4, 4, 1), m('orders-currency@1', 3, 0, 0)],
    expected: { kind: 'fail', fanIn: { total: 4, final: 4, failed: 1 } },
  },
  {
    name: 'the second stage counts the first stage\'s shards too: all completed → the next wave',
    migrations: [m('customers-profile@1', 1, 4, 4), m('orders-currency@1', 3, 8, 8), m('audit@1', 5, 0, 0)],
    expected: { kind: 'next-wave', wave: 4, fanIn: { total: 12, final: 12, failed: 0 } },
  },
  {
    name: 'the second stage still running: wait, even though the first is final',
    migrations: [m('customers-profile@1', 1, 4, 4), m('orders-currency@1', 3, 8, 5)],
    expected: { kind: 'wait', fanIn: { total: 12, final: 9, failed: 0 } },
  },
  {
    name: 'after the last wave, all final: the verification (which also handles failed shards)',
    migrations: [m('customers-profile@1', 1, 4, 4), m('orders-currency@1', 3, 8, 8), m('audit@1', 5, 2, 2, 1)],
    expected: { kind: 'verify', fanIn: { total: 14, final: 14, failed: 1 } },
  },
  {
    name: 'every migration after the last wave (no `after`): the verification once all are final',
    migrations: [m('orders-currency@1', 5, 8, 8), m('customers-profile@1', 5, 4, 4)],
    expected: { kind: 'verify', fanIn: { total: 12, final: 12, failed: 0 } },
  },
  {
    name: 'a migration of the current stage not fanned out yet: wait',
    migrations: [m('orders-currency@1', 3, 8, 8), m('customers-profile@1', 3, 0, 0)],
    expected: { kind: 'wait', fanIn: { total: 8, final: 8, failed: 0 } },
  },
  {
    name: 'no shards at all yet: wait',
    migrations: [m('orders-currency@1', 3, 0, 0)],
    expected: { kind: 'wait', fanIn: { total: 0, final: 0, failed: 0 } },
  },
];

for (const c of cases) {
  test(`fan-in stage: ${c.name}`, () => assert.deepEqual(decideFanIn(5, c.migrations), c.expected));
}
