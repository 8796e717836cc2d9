/** The MongoDB backfill as update operators, and grouping of identical updates. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { documentUpdate, setAtPath, valueAtPath } from '../../src/core/document-update.ts';

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

test('setAtPath sets a dotted path on a copy, creating or replacing what is in the way', () => {
  const document = { _id: 1, meta: { v: 1, keep: true }, flat: 3 };
  assert.deepEqual(setAtPath(document, 'meta.v', 2), { _id: 1, meta: { v: 2, keep: true }, flat: 3 });
  assert.deepEqual(setAtPath(document, 'flat.v', 2), { _id: 1, meta: { v: 1, keep: true }, flat: { v: 2 } });
  assert.deepEqual(setAtPath(document, 'schemaVersion', 2), { ...document, schemaVersion: 2 });
  assert.deepEqual(document, { _id: 1, meta: { v: 1, keep: true }, flat: 3 }, 'the input is not changed');
});
