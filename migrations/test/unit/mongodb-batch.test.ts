/** How a MongoDB batch splits its writes into commands (the writes themselves: mongodb-cas-races.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunksOf, defaultWritesPerCommand, maxWritesPerCommand, writesPerCommandOf } from '../../src/mongodb/batch.ts';

test('chunks are consecutive, of the size asked, the last one shorter; nothing gives no chunk', () => {
  assert.deepEqual(chunksOf([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2, 3], [4, 5, 6], [7]]);
  assert.deepEqual(chunksOf([1, 2], 5), [[1, 2]]);
  assert.deepEqual(chunksOf([], 5), []);
});

test('writes per command: the default unless set, kept within 1 and the most FerretDB answers', () => {
  assert.equal(writesPerCommandOf({}), defaultWritesPerCommand);
  assert.ok(defaultWritesPerCommand >= 1 && defaultWritesPerCommand <= maxWritesPerCommand);
  assert.equal(writesPerCommandOf({ writesPerCommand: 7 }), 7);
  assert.equal(writesPerCommandOf({ writesPerCommand: 7.9 }), 7);
  assert.equal(writesPerCommandOf({ writesPerCommand: 0 }), 1);
  assert.equal(writesPerCommandOf({ writesPerCommand: 1000 }), maxWritesPerCommand);
  assert.equal(writesPerCommandOf({ writesPerCommand: Number.NaN }), defaultWritesPerCommand);
});
