/** The MongoDB backfill as update operators, and grouping of identical updates. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { documentUpdate, groupUpdates, valueAtPath } from '../../src/core/document-update.ts';

const migration = {
  marker: { field: 'schemaVersion', from: 1, to: 2 },
  backfill: { set: { 'profile.displayName': '$name', 'profile.tier': 'standard' }, rename: { phone: 'profile.phone' }, unset: ['legacyFlags'] },
};

test('documentUpdate resolves $field references from the pre-image and sets the marker', () => {
  assert.deepEqual(documentUpdate({ _id: 1, name: 'Ada', phone: '1' }, migration), {
    $set: { 'profile.displayName': 'Ada', 'profile.tier': 'standard', schemaVersion: 2 },
    $rename: { phone: 'profile.phone' },
    $unset: { legacyFlags: '' },
  });
});

test('documentUpdate skips a reference to a missing field (like MongoDB does)', () => {
  assert.deepEqual(documentUpdate({ _id: 2 }, migration).$set, { 'profile.tier': 'standard', schemaVersion: 2 });
});

test('a guard-only migration sets no marker', () => {
  const update = documentUpdate({ _id: 3 }, { marker: { guard: { done: { $exists: false } } }, backfill: { set: { done: true }, rename: {}, unset: [] } });
  assert.deepEqual(update, { $set: { done: true } });
});

test('valueAtPath walks objects only', () => {
  assert.equal(valueAtPath({ a: { b: 1 } }, 'a.b'), 1);
  assert.equal(valueAtPath({ a: [{ b: 1 }] }, 'a.b'), undefined);
  assert.equal(valueAtPath({ a: null }, 'a.b'), undefined);
});

test('groupUpdates puts identical updates together, keeping first-seen order', () => {
  const literalOnly = { ...migration, backfill: { ...migration.backfill, set: { 'profile.tier': 'standard' } } };
  const docs = [{ _id: 1, name: 'a' }, { _id: 2, name: 'b' }, { _id: 3 }];
  assert.equal(groupUpdates(docs.map((doc) => ({ key: doc._id, update: documentUpdate(doc, literalOnly) }))).length, 1);
  const groups = groupUpdates(docs.map((doc) => ({ key: doc._id, update: documentUpdate(doc, migration) })));
  assert.deepEqual(groups.map((group) => group.keys), [[1], [2], [3]]);
});
