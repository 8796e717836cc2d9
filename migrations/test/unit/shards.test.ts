/** Shard boundary math, table-driven. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autoShardCount, imbalance, quantileFractions, rangesFromBoundaries } from '../../src/index.ts';
import { boundaryPositions, samplePercent } from '../../src/core/shards.ts';

test('quantileFractions splits [0, 1] evenly', () => {
  assert.deepEqual(quantileFractions(1), []);
  assert.deepEqual(quantileFractions(4), [0.25, 0.5, 0.75]);
  assert.throws(() => quantileFractions(0), RangeError);
  assert.throws(() => quantileFractions(2.5), RangeError);
});

const rangeCases: Array<{ name: string; boundaries: string[]; expected: Array<[string | null, string | null]> }> = [
  { name: 'no boundary: one unbounded range', boundaries: [], expected: [[null, null]] },
  { name: 'three boundaries: four ranges', boundaries: ['10', '20', '30'], expected: [[null, '10'], ['10', '20'], ['20', '30'], ['30', null]] },
  { name: 'repeated boundaries collapse (never an empty range)', boundaries: ['5', '5', '9'], expected: [[null, '5'], ['5', '9'], ['9', null]] },
  { name: 'uuid keys', boundaries: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'], expected: [[null, '3f2504e0-4f89-11d3-9a0c-0305e82c3301'], ['3f2504e0-4f89-11d3-9a0c-0305e82c3301', null]] },
];
for (const { name, boundaries, expected } of rangeCases) {
  test(`rangesFromBoundaries: ${name}`, () => {
    assert.deepEqual(rangesFromBoundaries(boundaries), expected.map(([start, end]) => ({ start, end })));
  });
}

const positionCases: Array<[number, number, number[]]> = [
  [100, 4, [25, 50, 75]], [10, 3, [3, 6]], [3, 8, [1, 2]], [0, 4, []], [1000, 1, []],
];
for (const [total, count, expected] of positionCases) {
  test(`boundaryPositions(${total}, ${count})`, () => assert.deepEqual(boundaryPositions(total, count), expected));
}

test('imbalance is max/min, infinite with an empty shard', () => {
  assert.equal(imbalance([100, 100]), 1);
  assert.equal(imbalance([100, 125, 110]), 1.25);
  assert.equal(imbalance([0, 5]), Number.POSITIVE_INFINITY);
  assert.equal(imbalance([]), 1);
});

test('autoShardCount and samplePercent stay in bounds', () => {
  assert.deepEqual([0, 1, 25_000, 25_001, 200_000, 1e9].map((rows) => autoShardCount(rows)), [1, 1, 1, 2, 8, 64]);
  assert.equal(samplePercent(1000, 60_000), 100);
  assert.equal(samplePercent(2_000_000, 60_000), 3);
  assert.equal(samplePercent(1e12, 1), 0.0001);
});
