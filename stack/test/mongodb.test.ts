import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MongoClient } from 'mongodb';
import type { Collection, Db } from 'mongodb';

interface Item {
  _id: number;
  name: string;
  version: number;
}

const databaseName = `stack_test_${process.pid}_${Date.now()}`;
let client: MongoClient;
let db: Db;
let items: Collection<Item>;

before(async () => {
  assert.ok(process.env.MONGODB_URL, 'MONGODB_URL must be set (run through `npm test`)');
  client = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  db = client.db(databaseName);
  items = db.collection<Item>('items');
});

after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

test('inserted documents come back by _id range, sorted and limited', async () => {
  const docs = Array.from({ length: 20 }, (_, i) => ({ _id: i + 1, name: `item-${i + 1}`, version: 1 }));
  const inserted = await items.insertMany(docs);
  assert.equal(inserted.insertedCount, 20);

  const page = await items.find({ _id: { $gt: 5, $lte: 15 } }).sort({ _id: -1 }).limit(3).toArray();
  assert.deepEqual(page, [
    { _id: 15, name: 'item-15', version: 1 },
    { _id: 14, name: 'item-14', version: 1 },
    { _id: 13, name: 'item-13', version: 1 },
  ]);

  const ascending = await items.find({ _id: { $gte: 18 } }, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray();
  assert.deepEqual(ascending, [{ _id: 18 }, { _id: 19 }, { _id: 20 }]);
});

test('bulkWrite of updateOne operations updates exactly the matched documents', async () => {
  const result = await items.bulkWrite(
    [1, 2, 3].map((id) => ({
      updateOne: { filter: { _id: id, version: 1 }, update: { $set: { version: 2, name: `renamed-${id}` } } },
    })).concat([{ updateOne: { filter: { _id: 999, version: 1 }, update: { $set: { version: 2, name: 'missing' } } } }]),
    { ordered: true },
  );
  assert.equal(result.matchedCount, 3);
  assert.equal(result.modifiedCount, 3);
  assert.equal(result.upsertedCount, 0);

  // A replay of the same guarded updates matches nothing: the version guard makes it idempotent.
  const replay = await items.bulkWrite([{ updateOne: { filter: { _id: 1, version: 1 }, update: { $set: { version: 2 } } } }]);
  assert.equal(replay.matchedCount, 0);
  assert.equal(replay.modifiedCount, 0);

  const updated = await items.find({ version: 2 }).sort({ _id: 1 }).toArray();
  assert.deepEqual(updated, [
    { _id: 1, name: 'renamed-1', version: 2 },
    { _id: 2, name: 'renamed-2', version: 2 },
    { _id: 3, name: 'renamed-3', version: 2 },
  ]);
  assert.equal(await items.countDocuments({ version: 1 }), 17);
});
