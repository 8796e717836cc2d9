import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommitFrontier, KeyChains } from '../../src/dev/key-order.ts';

const frontierCases: Array<{ name: string; offsets: string[]; finished: string[]; resolved: Array<string | undefined>; lowest: string | undefined }> = [
  { name: 'in order: each finish moves the frontier', offsets: ['5', '6', '7'], finished: ['5', '6', '7'], resolved: ['5', '6', '7'], lowest: undefined },
  { name: 'a later record finishing first waits for the earlier one', offsets: ['5', '6', '7'], finished: ['7', '6', '5'], resolved: [undefined, undefined, '7'], lowest: undefined },
  { name: 'an unfinished record holds the frontier below it', offsets: ['5', '6', '7', '8'], finished: ['5', '7', '8'], resolved: ['5', undefined, undefined], lowest: '6' },
  { name: 'nothing finished: nothing to resolve', offsets: ['0', '1'], finished: [], resolved: [], lowest: '0' },
  { name: 'gaps in the offsets (compaction, control records) are followed', offsets: ['10', '12', '15'], finished: ['12', '10', '15'], resolved: [undefined, '12', '15'], lowest: undefined },
];

for (const { name, offsets, finished, resolved, lowest } of frontierCases) {
  test(`commit frontier: ${name}`, () => {
    const frontier = new CommitFrontier(offsets);
    assert.deepEqual(finished.map((offset) => frontier.finish(offset)), resolved);
    assert.equal(frontier.lowestUnfinished, lowest);
  });
}

test('key chains: a record of a key in flight waits behind it, in arrival order; other keys do not', () => {
  const chains = new KeyChains<string>();
  assert.equal(chains.join('a', 'a1'), false, 'first of a starts');
  assert.equal(chains.join('b', 'b1'), false, 'first of b starts too');
  assert.equal(chains.join('a', 'a2'), true, 'a2 follows a1');
  assert.equal(chains.join('a', 'a3'), true);
  assert.equal(chains.next('b'), undefined, 'b ends');
  assert.equal(chains.join('b', 'b2'), false, 'b starts again once ended');
  assert.equal(chains.next('a'), 'a2');
  assert.equal(chains.next('a'), 'a3');
  assert.equal(chains.next('a'), undefined, 'a ends');
  assert.equal(chains.join('a', 'a4'), false);
});

test('key chains: records without a key never wait', () => {
  const chains = new KeyChains<string>();
  assert.equal(chains.join(undefined, 'x'), false);
  assert.equal(chains.join(undefined, 'y'), false);
  assert.equal(chains.next(undefined), undefined);
});
