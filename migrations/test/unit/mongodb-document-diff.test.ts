/** Changed paths between a pre-image and its migrated form, BSON types kept, and the update towards either side. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BSON } from 'mongodb';
import { DocumentPathError } from '../../src/core/document-update.ts';
import { diffDocuments, diffTransformed, sameValue, updateTowards } from '../../src/mongodb/document-diff.ts';

const oid = new BSON.ObjectId('65f000000000000000000001');

const diffs: Array<{ name: string; before: Record<string, unknown>; after: Record<string, unknown>; expected: unknown[] }> = [
  { name: 'nothing changed', before: { _id: 1, a: 1, b: { c: [1, 2] } }, after: { _id: 1, a: 1, b: { c: [1, 2] } }, expected: [] },
  {
    name: 'added, removed and changed top-level fields; _id never counts',
    before: { _id: 1, a: 1, gone: 'x' }, after: { _id: 2, a: 2, added: true },
    expected: [{ path: 'a', before: 1, after: 2 }, { path: 'gone', before: 'x' }, { path: 'added', after: true }],
  },
  {
    name: 'plain sub-documents are compared field by field; siblings are left out',
    before: { p: { keep: 1, x: 1 } }, after: { p: { keep: 1, x: 2, y: 3 } },
    expected: [{ path: 'p.x', before: 1, after: 2 }, { path: 'p.y', after: 3 }],
  },
  { name: 'a sub-document that appears is one value', before: {}, after: { p: { a: 1 } }, expected: [{ path: 'p', after: { a: 1 } }] },
  { name: 'arrays are single values', before: { l: [1, { a: 1 }] }, after: { l: [1, { a: 2 }] }, expected: [{ path: 'l', before: [1, { a: 1 }], after: [1, { a: 2 }] }] },
  {
    name: 'a sub-document with an unaddressable key is a single value',
    before: { m: { 'a.b': 1 } }, after: { m: { 'a.b': 2 } }, expected: [{ path: 'm', before: { 'a.b': 1 }, after: { 'a.b': 2 } }],
  },
  {
    name: 'BSON types count: an int is not a double, a long not an int',
    before: { i: new BSON.Int32(5), d: new BSON.Double(5), l: BSON.Long.fromNumber(5) }, after: { i: 5, d: 5, l: 5 },
    expected: [{ path: 'd', before: new BSON.Double(5), after: 5 }, { path: 'l', before: BSON.Long.fromNumber(5), after: 5 }],
  },
  { name: 'BSON values compare by value', before: { o: oid, t: new Date(1) }, after: { o: new BSON.ObjectId(oid.toHexString()), t: new Date(1) }, expected: [] },
  { name: 'null is a value, missing is not', before: { n: null }, after: {}, expected: [{ path: 'n', before: null }] },
];

for (const { name, before, after, expected } of diffs) {
  test(`diffDocuments: ${name}`, () => assert.deepEqual(diffDocuments(before, after), expected));
}

test('a changed top-level field that no path can address is refused', () => {
  assert.throws(() => diffDocuments({ 'a.b': 1 }, { 'a.b': 2 }), DocumentPathError);
  assert.deepEqual(diffDocuments({ 'a.b': 1, x: 1 }, { 'a.b': 1, x: 2 }), [{ path: 'x', before: 1, after: 2 }]);
});

test('diffTransformed: a value the transform returns as it got it is no change, so its BSON type stays; before comes from the exact pre-image', () => {
  const exact = { _id: 1, d: new BSON.Double(5), cents: new BSON.Int32(250), name: 'Ada' };
  const given = { _id: 1, d: 5, cents: 250, name: 'Ada' };
  const result = { _id: 1, d: 5, amount: 2.5, name: 'Ada' };
  assert.deepEqual(diffTransformed(exact, given, result), [{ path: 'cents', before: new BSON.Int32(250) }, { path: 'amount', after: 2.5 }]);
});

test('sameValue: undefined (missing) equals only itself', () => {
  assert.equal(sameValue(undefined, undefined), true);
  assert.equal(sameValue(undefined, null), false);
  assert.equal(sameValue({ a: 1, b: 2 }, { b: 2, a: 1 }), false, 'field order counts, as in MongoDB');
});

test('updateTowards sets present values and unsets missing ones, for either side', () => {
  const changes = [{ path: 'a', before: 1, after: 2 }, { path: 'gone', before: 'x' }, { path: 'added', after: true }];
  assert.deepEqual(updateTowards(changes, 'after'), { $set: { a: 2, added: true }, $unset: { gone: '' } });
  assert.deepEqual(updateTowards(changes, 'before'), { $set: { a: 1, gone: 'x' }, $unset: { added: '' } });
  assert.deepEqual(updateTowards([{ path: 'x', after: 1 }], 'after'), { $set: { x: 1 } });
});
