import assert from 'node:assert/strict';
import { test } from 'node:test';
import { advanceRestore, restoreStart } from '../../src/core/restore-progress.ts';
import type { RestoreProgress } from '../../src/core/restore-progress.ts';

const cases: Array<{ name: string; from: RestoreProgress; page: { lastKey: string | null; paged: number; restored: number }; pageSize?: number; to: RestoreProgress }> = [
  { name: 'a full page continues after its last key', from: restoreStart, page: { lastKey: '1000', paged: 1000, restored: 990 }, to: { phase: 'backup', lastKey: '1000', restored: 990 } },
  { name: 'a short page ends the backed-up rows and starts the created ones from the range start', from: { phase: 'backup', lastKey: '1000', restored: 990 }, page: { lastKey: '1400', paged: 400, restored: 10 }, to: { phase: 'created', lastKey: null, restored: 1000 } },
  { name: 'an empty page ends its phase', from: { phase: 'created', lastKey: '5', restored: 7 }, page: { lastKey: null, paged: 0, restored: 0 }, to: { phase: 'done', lastKey: null, restored: 7 } },
  { name: 'restored rows add up over pages and attempts', from: { phase: 'backup', lastKey: '10', restored: 3 }, page: { lastKey: '20', paged: 10, restored: 4 }, pageSize: 10, to: { phase: 'backup', lastKey: '20', restored: 7 } },
];

for (const { name, from, page, pageSize, to } of cases) {
  test(`restore progress: ${name}`, () => {
    assert.deepEqual(advanceRestore(from, page, pageSize ?? 1000), to);
  });
}
