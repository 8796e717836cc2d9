/** Restore pages sized like backfill batches: the engine's own doubling is capped where the pages meet the target time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultBatchSizeLimits, unthrottledPage } from '@upshift/migrations';
import { pagesSizedToTarget } from '../src/restore-pages.ts';

/** Runs `pages` restore pages of a store costing `msPerRow` on a fake clock, the engine asking 1,000 doubling to 5,000 rows; returns the sizes run. */
async function restorePages(pages: number, msPerRow: number, targetMs: number): Promise<number[]> {
  let clock = 0;
  const sized = pagesSizedToTarget(unthrottledPage, { ...defaultBatchSizeLimits, targetMs }, () => clock);
  const ran: number[] = [];
  let engineSize = 1000;
  for (let i = 0; i < pages; i++) {
    await sized(engineSize, async (size) => {
      clock += 2 + msPerRow * size;
      ran.push(size);
    });
    engineSize = Math.min(5000, engineSize * 2);
  }
  return ran;
}

test('restore pages shrink to the target batch time instead of doubling to 5,000 rows', async () => {
  const ran = await restorePages(30, 0.5, 100);
  assert.equal(ran[0], 1000, 'the first page is the engine\'s own');
  const settled = ran.slice(-6).reduce((sum, size) => sum + size, 0) / 6;
  assert.ok(Math.abs(2 + 0.5 * settled - 100) < 20, `settled at ${settled} rows (${(2 + 0.5 * settled).toFixed(0)} ms)`);
});

test('a fast store reaches the engine\'s own largest page, never more (the controller only ever lowers the engine\'s ask)', async () => {
  const ran = await restorePages(8, 0.001, 100);
  assert.deepEqual(ran.slice(-4), [5000, 5000, 5000, 5000]);
  assert.ok(ran.every((size, i) => size <= Math.min(5000, 1000 * 2 ** i)), ran.join(', '));
});
