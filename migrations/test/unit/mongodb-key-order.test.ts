/** `_id`s ordered the way MongoDB sorts them, so a restore can walk the backup and the collection side by side. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BSON } from 'mongodb';
import { compareKeys } from '../../src/mongodb/key-order.ts';

const ascending: Array<[string, unknown]> = [
  ['MinKey', new BSON.MinKey()],
  ['null', null],
  ['-3', -3],
  ['Long 2', BSON.Long.fromNumber(2)],
  ['2.5', 2.5],
  ['Int32 7', new BSON.Int32(7)],
  ['"Z"', 'Z'],
  ['"a"', 'a'],
  ['"b"', 'b'],
  ['"é"', 'é'],
  ['"\\uFFFD" (UTF-8 EF BF BD)', '\uFFFD'],
  ['"😀" (UTF-8 F0…; UTF-16 would put it first)', '😀'],
  ['{a: 1}', { a: 1 }],
  ['{a: 1, b: 0}', { a: 1, b: 0 }],
  ['{b: 0} (a number field sorts before a string one, whatever the names)', { b: 0 }],
  ['{a: "x"}', { a: 'x' }],
  ['Binary [1]', new BSON.Binary(Buffer.from([1]))],
  ['Binary [0, 0]', new BSON.Binary(Buffer.from([0, 0]))],
  ['ObjectId …01', new BSON.ObjectId('65f000000000000000000001')],
  ['ObjectId …02', new BSON.ObjectId('65f000000000000000000002')],
  ['false', false],
  ['true', true],
  ['Date 1', new Date(1)],
  ['Date 2', new Date(2)],
  ['Timestamp', new BSON.Timestamp({ t: 1, i: 1 })],
  ['MaxKey', new BSON.MaxKey()],
];

test('compareKeys orders every pair as MongoDB sorts BSON values', () => {
  for (const [i, [nameA, a]] of ascending.entries()) {
    for (const [j, [nameB, b]] of ascending.entries()) {
      const order = Math.sign(compareKeys(a, b));
      assert.equal(order, Math.sign(i - j), `${nameA} vs ${nameB}`);
    }
  }
});

test('numbers of different BSON types with one value are the same key', () => {
  assert.equal(compareKeys(new BSON.Int32(5), 5), 0);
  assert.equal(compareKeys(new BSON.Double(5), BSON.Long.fromNumber(5)), 0);
  assert.ok(compareKeys(BSON.Long.fromString('9007199254740993'), BSON.Long.fromString('9007199254740992')) > 0, 'longs beyond 2^53 compare exactly');
});

test('sorting with compareKeys is stable for shuffled input', () => {
  const shuffled = [...ascending].reverse().map(([, value]) => value);
  const sorted = shuffled.sort(compareKeys);
  assert.deepEqual(sorted.map((value) => BSON.EJSON.stringify({ v: value })), ascending.map(([, value]) => BSON.EJSON.stringify({ v: value })));
});
