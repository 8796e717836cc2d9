/** Compare-and-set filters: each path pinned to exactly the value read, `_id` a plain equality. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BSON } from 'mongodb';
import { casFilter, holdsCondition, numberType, outermostPaths } from '../../src/mongodb/cas.ts';

const conditions: Array<[string, unknown, unknown]> = [
  ['missing', undefined, { $exists: false }],
  ['null (not a missing field, not an array holding null)', null, { $type: 'null', $not: { $type: 'array' } }],
  ['a string (not an array holding it)', 'x', { $eq: 'x', $not: { $type: 'array' } }],
  ['an int (not a double or long of the same value)', new BSON.Int32(5), { $eq: new BSON.Int32(5), $type: 'int', $not: { $type: 'array' } }],
  ['a double', new BSON.Double(5), { $eq: new BSON.Double(5), $type: 'double', $not: { $type: 'array' } }],
  ['a plain integral number, as the driver writes it', 7, { $eq: 7, $type: 'int', $not: { $type: 'array' } }],
  ['an array (of the same length)', [1, 2], { $eq: [1, 2], $size: 2 }],
  ['a sub-document', { a: 1 }, { $eq: { a: 1 }, $not: { $type: 'array' } }],
];

for (const [name, value, expected] of conditions) {
  test(`holdsCondition: ${name}`, () => assert.deepEqual(holdsCondition(value), expected));
}

test('numberType names the BSON number type the driver writes', () => {
  assert.deepEqual([1, 2.5, 2 ** 31, BSON.Long.fromNumber(1), new BSON.Decimal128('1'), 'x'].map(numberType), ['int', 'double', 'double', 'long', 'decimal', undefined]);
});

test('outermostPaths drops paths under another pinned path', () => {
  assert.deepEqual(outermostPaths(['profile.tier', 'profile', 'phone', 'profiles.x', 'phone']), ['phone', 'profile', 'profiles.x']);
});

test('casFilter: _id first as a plain equality, one condition per outermost path, the guard under $and', () => {
  const read: Record<string, unknown> = { name: 'Ada', profile: undefined, 'profile.tier': undefined, schemaVersion: new BSON.Int32(1) };
  const filter = casFilter('c1', ['schemaVersion', 'name', 'profile.tier', 'profile'], (path) => read[path], { done: { $exists: false } });
  assert.deepEqual(filter, {
    _id: 'c1',
    name: { $eq: 'Ada', $not: { $type: 'array' } },
    profile: { $exists: false },
    schemaVersion: { $eq: new BSON.Int32(1), $type: 'int', $not: { $type: 'array' } },
    $and: [{ done: { $exists: false } }],
  });
  assert.deepEqual(Object.keys(filter)[0], '_id');
  assert.deepEqual(casFilter(1, [], () => undefined), { _id: 1 });
});
