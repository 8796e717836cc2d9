/**
 * MongoDB backfills through a transform module (`export function transform(doc)`) against the stack's
 * server: documents become exactly what the module returns (plus the marker), a throwing transform
 * names the document and writes nothing for it, the backup holds what each write changed, and a restore
 * gives back every document field for field.
 * Also the catalog side: lint and preflight name the field when the module is missing or wrong.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BSON, MongoClient } from 'mongodb';
import type { Collection, Db, Document } from 'mongodb';
import { isMigrationError, lintCatalog, loadCatalog, migrationByRef, openEngine, runCatalogLintCommand } from '../src/index.ts';
import type { MigrationEngine } from '../src/index.ts';
import { writeCatalog } from './helpers/catalog.ts';
import { migrateAllShards } from './helpers/shards.ts';

const documents = 600;
const databaseName = `upshift_tf_${process.pid}_${Date.now() % 1_000_000}`;

function migrationYaml(options: { name: string; transform?: string; extra?: string }): string {
  return `apiVersion: upshift.dev/v1alpha1
kind: Migration
name: ${options.name}
version: 1
store: mongodb
connection: TF_MONGODB_URL
database: ${databaseName}
collection: ${options.name}
marker: { field: meta.schemaVersion, from: 1, to: 2 }
backfill:
${options.transform ? `  transform: ${options.transform}\n` : ''}${options.extra ?? ''}`;
}

// Splits `name` into first/last, turns the cents into an amount and an account ObjectId (through the
// BSON helpers the engine passes in), and refuses a document
// without a name (the failure a test below provokes).
const transformModule = `
export function transform(doc, { BSON }) {
  if (typeof doc.name !== 'string') throw new Error('customer has no name');
  const [first, ...rest] = doc.name.split(' ');
  const { name, cents, ...kept } = doc;
  return { ...kept, person: { first, last: rest.join(' ') }, amount: cents / 100, account: BSON.ObjectId.createFromTime(1_800_000_000 + cents), seenBy: doc._id };
}
`;

const catalog = writeCatalog({
  'customers-split@1.yaml': migrationYaml({ name: 'customers-split', transform: 'customers-split.transform.mjs' }),
  'customers-split.transform.mjs': transformModule,
  'no-export@1.yaml': migrationYaml({ name: 'no-export', transform: 'no-export.mjs' }),
  'no-export.mjs': 'export const transformer = (doc) => doc;\n',
});

let client: MongoClient;
let db: Db;
let collection: Collection<Document>;
let engine: MigrationEngine;
let original: Document[];

const exact = (docs: Document[]) => BSON.EJSON.stringify(docs, { relaxed: false });
/** Top-level fields in name order, each exactly (a restore adds removed fields back at the end of a document). */
const fieldwise = (docs: Document[]) => docs.map((doc) => Object.keys(doc).sort().map((key) => `${key}=${BSON.EJSON.stringify(doc[key], { relaxed: false })}`).join(' ')).join('\n');
const id = (index: number) => `k${String(index).padStart(5, '0')}`;

before(async () => {
  assert.ok(process.env.MONGODB_URL, 'MONGODB_URL must be set (run through npm test)');
  client = new MongoClient(process.env.MONGODB_URL, { serverSelectionTimeoutMS: 10_000 });
  db = client.db(databaseName);
  collection = db.collection('customers-split');
  original = Array.from({ length: documents }, (_, index) => ({ _id: id(index), name: `Ada Lovelace ${index}`, cents: 1000 + index, meta: { schemaVersion: 1, source: 'crm' } }));
  await collection.insertMany(original.map((document) => ({ ...document })));
  engine = openEngine(migrationByRef(loadCatalog(catalog.dir), 'customers-split@1'), { TF_MONGODB_URL: process.env.MONGODB_URL });
});

after(async () => {
  await engine?.close();
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  catalog.remove();
});

test('every document becomes what transform(doc) returns, with the marker set; backups hold what changed; restore puts it back', async () => {
  assert.deepEqual(await engine.preflight(), []);
  await engine.expand();
  const ranges = await engine.splitShards(4);
  const checkpoints = await migrateAllShards(engine, ranges, { concurrency: 2, batchSize: 64 });
  assert.equal(checkpoints.reduce((sum, checkpoint) => sum + checkpoint.changed, 0), documents);
  const expected = original.map((document, index) => ({
    _id: document._id, meta: { schemaVersion: 2, source: 'crm' }, person: { first: 'Ada', last: `Lovelace ${index}` },
    amount: (1000 + index) / 100, account: BSON.ObjectId.createFromTime(1_800_001_000 + index), seenBy: document._id,
  }));
  const migrated = await collection.find({}).sort({ _id: 1 }).toArray();
  assert.equal(migrated.length, documents);
  for (const [index, document] of migrated.entries()) {
    assert.deepEqual(BSON.EJSON.serialize(document, { relaxed: false }), BSON.EJSON.serialize(expected[index] as Document, { relaxed: false }), String(document._id));
  }
  assert.equal(await engine.countRemaining(), 0);
  const backup = await db.collection('upshift_backup__customers-split__customers-split__v1').find({}).sort({ _id: 1 }).toArray();
  assert.equal(exact(backup), exact(original.map((document, index) => ({
    _id: document._id,
    changes: [
      { path: 'name', before: document.name }, { path: 'cents', before: document.cents }, { path: 'meta.schemaVersion', before: 1, after: 2 },
      ...Object.entries(expected[index] as Document).filter(([field]) => !['_id', 'meta'].includes(field)).map(([path, after]) => ({ path, after })),
    ],
  }))));
  let restored = 0;
  for (const [index, range] of ranges.entries()) restored += (await engine.restoreShard(range, { runId: 'tf', shardId: `tf:${index}` })).restored;
  assert.equal(restored, documents);
  assert.equal(fieldwise(await collection.find({}).sort({ _id: 1 }).toArray()), fieldwise(original));
});

test('a transform that throws for one document names its _id; the documents before it are migrated, it and those after are not', async () => {
  const broken = id(250);
  await collection.updateOne({ _id: broken as unknown as Document['_id'] }, { $unset: { name: '' } });
  const ranges = await engine.splitShards(1);
  const range = ranges[0] ?? { start: null, end: null };
  const first = await engine.runBatch({ range, after: null, ceiling: null, batchSize: 200, backup: true });
  assert.equal(first.changed, 200);
  await assert.rejects(engine.runBatch({ range, after: first.lastKey, ceiling: null, batchSize: 100, backup: true }), (error: unknown) => {
    assert.ok(isMigrationError(error, 'TRANSFORM_FAILED'), String(error));
    assert.equal(error.key, BSON.EJSON.stringify(broken, { relaxed: false }));
    assert.match(error.message, /customers-split@1: transform\(doc\) for _id "k00250" threw: customer has no name/);
    return true;
  });
  assert.equal(await collection.countDocuments({ 'meta.schemaVersion': 2 }), 200, 'the failing batch wrote nothing');
  assert.equal(await engine.countRemaining(), documents - 200);
});

test('catalog: a module without transform(doc), a missing module, or a transform next to set: lint and preflight name backfill.transform', async () => {
  const broken = openEngine(migrationByRef(loadCatalog(catalog.dir), 'no-export@1'), { TF_MONGODB_URL: process.env.MONGODB_URL });
  try {
    const problems = await broken.preflight();
    assert.equal(problems[0]?.path, 'backfill.transform');
    assert.match(problems[0]?.message ?? '', /no-export@1: the transform module .*no-export\.mjs must export a function transform\(doc\)/);
  } finally {
    await broken.close();
  }
  const lines: string[] = [];
  const code = await runCatalogLintCommand([catalog.dir], { stdout: () => undefined, stderr: (line) => lines.push(line), env: {} });
  assert.equal(code, 2);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0] ?? '', /no-export@1\.yaml: backfill\.transform: .*must export a function transform\(doc\)/);

  const bad = writeCatalog({
    'gone@1.yaml': migrationYaml({ name: 'gone', transform: 'gone.mjs' }),
    'both@1.yaml': migrationYaml({ name: 'both', transform: 'both.mjs', extra: '  set: { tier: standard }\n' }),
    'both.mjs': 'export function transform(doc) { return doc; }\n',
    'path@1.yaml': migrationYaml({ name: 'path', transform: '../elsewhere.mjs' }),
  });
  try {
    const found = lintCatalog(bad.dir).map((problem) => `${problem.file.split('/').at(-1)}: ${problem.path}: ${problem.message}`).sort();
    assert.equal(found.length, 3, found.join('\n'));
    assert.match(found[0] ?? '', /^both@1\.yaml: backfill\.transform: use either a transform module or set\/rename\/unset, not both$/);
    assert.match(found[1] ?? '', /^gone@1\.yaml: backfill\.transform: cannot read the module .*gone\.mjs: ENOENT$/);
    assert.match(found[2] ?? '', /^path@1\.yaml: backfill\.transform: must name a module file in the catalog folder/);
  } finally {
    bad.remove();
  }
});

test('the checksum covers the transform module: editing it changes the migration checksum', () => {
  const one = writeCatalog({ 'm@1.yaml': migrationYaml({ name: 'm', transform: 'm.mjs' }), 'm.mjs': 'export function transform(doc) { return doc; }\n' });
  const two = writeCatalog({ 'm@1.yaml': migrationYaml({ name: 'm', transform: 'm.mjs' }), 'm.mjs': 'export function transform(doc) { return { ...doc, x: 1 }; }\n' });
  try {
    const checksum = (dir: string) => migrationByRef(loadCatalog(dir), 'm@1').checksum;
    assert.notEqual(checksum(one.dir), checksum(two.dir));
    assert.equal(checksum(one.dir), checksum(one.dir));
  } finally {
    one.remove();
    two.remove();
  }
});
