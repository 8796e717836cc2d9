/** Per path of a backed-up document: put back, already back, or a conflict decided by down.conflicts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BSON } from 'mongodb';
import { backupChanges, decidePath, deletedFinding, planRestore } from '../../src/mongodb/restore-plan.ts';

const decisions: Array<[string, { before?: unknown; after?: unknown }, unknown, 'keep-current' | 'restore', boolean, string]> = [
  ['the migration value is still there', { before: 1, after: 2 }, 2, 'keep-current', true, 'restore'],
  ['a removed field is still missing', { before: 'x' }, undefined, 'keep-current', true, 'restore'],
  ['already back (a resumed restore)', { before: 1, after: 2 }, 1, 'keep-current', true, 'already'],
  ['an added field already gone', { after: 2 }, undefined, 'keep-current', true, 'already'],
  ['changed by the application, keep-current', { before: 1, after: 2 }, 3, 'keep-current', true, 'kept'],
  ['changed by the application, restore', { before: 1, after: 2 }, 3, 'restore', true, 'restored'],
  ['a removed field the application wrote again, restore', { before: 'x' }, 'y', 'restore', true, 'restored'],
  ['restore, but the path runs through a non-document now', { before: 1, after: 2 }, undefined, 'restore', false, 'kept'],
  ['an int is not a double of the same value', { before: 1, after: new BSON.Int32(2) }, new BSON.Double(2), 'keep-current', true, 'kept'],
];

for (const [name, change, found, rule, settable, expected] of decisions) {
  test(`decidePath: ${name} → ${expected}`, () => assert.equal(decidePath({ path: 'p', ...change }, found, rule, settable), expected));
}

const changes = [
  { path: 'schemaVersion', before: 1, after: 2 },
  { path: 'phone', before: '+49 1' },
  { path: 'profile', after: { tier: 'standard', phone: '+49 1' } },
];

test('planRestore: a quiet document gets every path back, compare-and-set on every changed path', () => {
  const plan = planRestore('c1', changes, { _id: 'c1', name: 'Ada', schemaVersion: 2, profile: { tier: 'standard', phone: '+49 1' } }, 'keep-current');
  assert.deepEqual(plan.paths.map((path) => path.decision), ['restore', 'restore', 'restore']);
  assert.deepEqual(plan.findings, []);
  assert.equal(plan.restored, true);
  assert.deepEqual(plan.write?.update, { $set: { schemaVersion: 1, phone: '+49 1' }, $unset: { profile: '' } });
  assert.deepEqual(plan.write?.filter, {
    _id: 'c1', phone: { $exists: false },
    profile: { $eq: { tier: 'standard', phone: '+49 1' }, $not: { $type: 'array' } },
    schemaVersion: { $eq: 2, $type: 'int', $not: { $type: 'array' } },
  });
});

test('planRestore: a conflict is kept (keep-current) and reported with what was written and what was found; the other paths still go back', () => {
  const current = { _id: 'c2', schemaVersion: 2, profile: { tier: 'gold', phone: '+49 1' } };
  const plan = planRestore('c2', changes, current, 'keep-current');
  assert.deepEqual(plan.findings, [{ documentId: 'c2', column: 'profile', kind: 'changed', decision: 'kept', written: { tier: 'standard', phone: '+49 1' }, found: { tier: 'gold', phone: '+49 1' } }]);
  assert.deepEqual(plan.write?.update, { $set: { schemaVersion: 1, phone: '+49 1' } });
  assert.deepEqual(plan.write?.filter.profile, { $eq: { tier: 'gold', phone: '+49 1' }, $not: { $type: 'array' } }, 'the kept value is pinned too');
  const restoring = planRestore('c2', changes, current, 'restore');
  assert.equal(restoring.findings[0]?.decision, 'restored');
  assert.deepEqual(restoring.write?.update, { $set: { schemaVersion: 1, phone: '+49 1' }, $unset: { profile: '' } });
});

test('planRestore: a document already restored needs no write and still counts as restored (a resumed restore)', () => {
  const plan = planRestore('c3', changes, { _id: 'c3', schemaVersion: 1, phone: '+49 1' }, 'keep-current');
  assert.equal(plan.write, undefined);
  assert.equal(plan.restored, true);
  assert.deepEqual(plan.findings, []);
});

test('planRestore: a document whose every changed path the application changed is not restored', () => {
  const plan = planRestore('c4', [{ path: 'schemaVersion', before: 1, after: 2 }], { _id: 'c4', schemaVersion: 3 }, 'keep-current');
  assert.equal(plan.restored, false);
  assert.equal(plan.write, undefined);
  assert.deepEqual(plan.findings.map((finding) => [finding.column, finding.decision]), [['schemaVersion', 'kept']]);
});

test('deletedFinding and backupChanges (an entry of another format is refused)', () => {
  assert.deepEqual(deletedFinding('x'), { documentId: 'x', column: '*', kind: 'deleted', decision: 'kept' });
  assert.deepEqual(backupChanges({ _id: 1, changes: [{ path: 'a', before: null }, { path: 'b', after: 2 }] }), [{ path: 'a', before: null }, { path: 'b', after: 2 }]);
  assert.equal(backupChanges({ _id: 1, name: 'a whole old pre-image' }), undefined);
  assert.equal(backupChanges({ _id: 1, changes: [{ before: 1 }] }), undefined);
});
