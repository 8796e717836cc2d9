/** The MongoDB declarative change applied in JavaScript with MongoDB's update semantics, and the paths it reads and touches. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canSetPath, DocumentPathError, hasChanges, migratedDocument, readPaths, setAtPath, setAtPathStrict, touchedPaths, unsetAtPath, valueAtPath,
} from '../../src/core/document-update.ts';

const profile = { set: { 'profile.displayName': '$name', 'profile.tier': 'standard' }, rename: { phone: 'profile.phone' }, unset: ['legacyFlags'] };
const marker = { field: 'schemaVersion', to: 2 };

const migrations: Array<{ name: string; document: Record<string, unknown>; expected: Record<string, unknown> }> = [
  {
    name: 'references resolve from the pre-image, rename moves, unset removes, the marker is set',
    document: { _id: 1, name: 'Ada', phone: '1', legacyFlags: ['vip'], schemaVersion: 1 },
    expected: { _id: 1, name: 'Ada', schemaVersion: 2, profile: { displayName: 'Ada', tier: 'standard', phone: '1' } },
  },
  {
    name: 'a reference to a missing field sets nothing and a missing rename source moves nothing (like MongoDB)',
    document: { _id: 2, schemaVersion: 1 },
    expected: { _id: 2, schemaVersion: 2, profile: { tier: 'standard' } },
  },
  {
    name: 'an existing sub-document keeps its other fields',
    document: { _id: 3, name: 'Bo', profile: { since: 2020, tier: 'gold' }, schemaVersion: 1 },
    expected: { _id: 3, name: 'Bo', profile: { since: 2020, tier: 'standard', displayName: 'Bo' }, schemaVersion: 2 },
  },
];

for (const { name, document, expected } of migrations) {
  test(`migratedDocument: ${name}`, () => {
    const copy = structuredClone(document);
    assert.deepEqual(migratedDocument(document, profile, marker), expected);
    assert.deepEqual(document, copy, 'the pre-image is not changed');
  });
}

test('migratedDocument refuses a path through a value that is not a document, as MongoDB would', () => {
  assert.throws(() => migratedDocument({ _id: 4, name: 'x', profile: 'flat' }, profile, marker), (error: unknown) =>
    error instanceof DocumentPathError && error.path === 'profile.displayName');
  assert.throws(() => migratedDocument({ _id: 5, profile: [1] }, profile, marker), DocumentPathError);
});

test('a guard-only change sets no marker', () => {
  assert.deepEqual(migratedDocument({ _id: 3 }, { set: { done: true }, rename: {}, unset: [] }), { _id: 3, done: true });
});

test('readPaths are references and rename sources; touchedPaths every path written or removed, with the marker', () => {
  assert.deepEqual(readPaths(profile), ['name', 'phone']);
  assert.deepEqual(touchedPaths(profile, marker), ['profile.displayName', 'profile.tier', 'phone', 'profile.phone', 'legacyFlags', 'schemaVersion']);
  assert.equal(hasChanges({ set: {}, rename: {}, unset: [] }), false);
  assert.equal(hasChanges({ set: {}, rename: { a: 'b' }, unset: [] }), true);
});

test('valueAtPath walks plain sub-documents only', () => {
  assert.equal(valueAtPath({ a: { b: 1 } }, 'a.b'), 1);
  assert.equal(valueAtPath({ a: [{ b: 1 }] }, 'a.b'), undefined);
  assert.equal(valueAtPath({ a: null }, 'a.b'), undefined);
  assert.equal(valueAtPath({ a: new Date(0) }, 'a.getTime'), undefined);
});

test('setAtPath sets a dotted path on a copy, creating or replacing what is in the way; the strict one refuses', () => {
  const document = { _id: 1, meta: { v: 1, keep: true }, flat: 3 };
  assert.deepEqual(setAtPath(document, 'meta.v', 2), { _id: 1, meta: { v: 2, keep: true }, flat: 3 });
  assert.deepEqual(setAtPath(document, 'flat.v', 2), { _id: 1, meta: { v: 1, keep: true }, flat: { v: 2 } });
  assert.deepEqual(setAtPath(document, 'schemaVersion', 2), { ...document, schemaVersion: 2 });
  assert.throws(() => setAtPathStrict(document, 'flat.v', 2), DocumentPathError);
  assert.deepEqual(setAtPathStrict(document, 'fresh.v', 2), { ...document, fresh: { v: 2 } });
  assert.deepEqual(document, { _id: 1, meta: { v: 1, keep: true }, flat: 3 }, 'the input is not changed');
});

test('unsetAtPath removes a field from a copy; a missing one (or one behind a non-document) changes nothing', () => {
  const document = { a: { b: 1, c: 2 }, d: 3 };
  assert.deepEqual(unsetAtPath(document, 'a.b'), { a: { c: 2 }, d: 3 });
  assert.deepEqual(unsetAtPath(document, 'd'), { a: { b: 1, c: 2 } });
  assert.equal(unsetAtPath(document, 'x.y'), document);
  assert.equal(unsetAtPath(document, 'd.e'), document);
  assert.deepEqual(document, { a: { b: 1, c: 2 }, d: 3 });
});

test('canSetPath: every ancestor that exists must be a plain document', () => {
  const table: Array<[Record<string, unknown>, string, boolean]> = [
    [{}, 'a.b.c', true],
    [{ a: {} }, 'a.b', true],
    [{ a: 1 }, 'a.b', false],
    [{ a: null }, 'a.b', false],
    [{ a: [] }, 'a.b', false],
    [{ a: 1 }, 'a', true],
  ];
  for (const [document, path, expected] of table) assert.equal(canSetPath(document, path), expected, `${JSON.stringify(document)} ${path}`);
});
