/**
 * A pinned catalog, without a database: files load from inside the catalog folder only (a symlink out or
 * a `../` path is refused with both paths; a ConfigMap-style symlink farm inside the folder still loads),
 * a transform module runs as the text that was checksummed at load (an edit of the file afterwards does
 * not run), and `plannedMigration` acts only on the entry with the planned checksum.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CatalogError, isMigrationError, lintCatalog, loadCatalog, migrationByRef, plannedMigration, readMigrationFile } from '../../src/index.ts';
import type { MongoMigration } from '../../src/index.ts';
import { loadTransform } from '../../src/mongodb/transform.ts';

const scratch = mkdtempSync(join(tmpdir(), 'upshift-pinning-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;

/** A fresh folder under the scratch folder holding `files`. */
function folder(files: Record<string, string> = {}): string {
  folders += 1;
  const dir = join(scratch, `f${folders}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function mongoYaml(name: string, transform: string): string {
  return `apiVersion: upshift.dev/v1alpha1
kind: Migration
name: ${name}
version: 1
store: mongodb
connection: PIN_MONGODB_URL
database: pins
collection: ${name}
marker: { field: v, from: 1, to: 2 }
backfill:
  transform: ${transform}
`;
}

const postgresYaml = (name: string, set = "'EUR'") => `apiVersion: upshift.dev/v1alpha1
kind: Migration
name: ${name}
version: 1
store: postgres
connection: PIN_DATABASE_URL
table: orders
key: id
marker: { column: schema_version, from: 1, to: 2 }
expand:
  addColumns:
    - { name: currency, type: text }
backfill:
  set:
    currency: "${set}"
`;

const tierModule = (tier: string) => `export function transform(doc) { return { ...doc, tier: '${tier}' }; }\n`;

test('a migration file symlinked from outside the catalog folder is refused at load, naming the link and where it leads', () => {
  const outside = folder({ 'orders-pin@1.yaml': postgresYaml('orders-pin') });
  const dir = folder();
  symlinkSync(join(outside, 'orders-pin@1.yaml'), join(dir, 'orders-pin@1.yaml'));
  const problems = lintCatalog(dir);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0]?.file, join(dir, 'orders-pin@1.yaml'));
  assert.match(problems[0]?.message ?? '', new RegExp(`resolves to ${join(outside, 'orders-pin@1.yaml')}, outside the catalog folder ${dir}`));
  assert.throws(() => loadCatalog(dir), (error: unknown) => error instanceof CatalogError && /outside the catalog folder/.test(error.message));
});

test('a transform module symlinked from outside the catalog folder is refused at load, on the field that names it', () => {
  const outside = folder({ 'evil.mjs': tierModule('evil') });
  const dir = folder({ 'tier-pin@1.yaml': mongoYaml('tier-pin', 'tier-pin.mjs') });
  symlinkSync(join(outside, 'evil.mjs'), join(dir, 'tier-pin.mjs'));
  const problems = lintCatalog(dir);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0]?.path, 'backfill.transform');
  assert.match(problems[0]?.message ?? '', new RegExp(`cannot read the module ${join(dir, 'tier-pin.mjs')} resolves to ${join(outside, 'evil.mjs')}, outside the catalog folder`));
});

test('a migration file reached through ../ is outside the catalog folder it is read for', () => {
  const parent = folder({ 'orders-pin@1.yaml': postgresYaml('orders-pin') });
  const dir = join(parent, 'catalog');
  mkdirSync(dir);
  const result = readMigrationFile(join(dir, '..', 'orders-pin@1.yaml'), dir);
  assert.ok('problems' in result, 'refused');
  assert.match(result.problems[0]?.message ?? '', /outside the catalog folder/);
});

test('a ConfigMap volume loads: files symlinked into ..data, itself a symlink to a timestamped folder, behind a symlinked mount', () => {
  const mount = folder();
  const stamped = join(mount, '..2026_11_23_14_00_00.1');
  mkdirSync(stamped);
  writeFileSync(join(stamped, 'tier-pin@1.yaml'), mongoYaml('tier-pin', 'tier-pin.mjs'));
  writeFileSync(join(stamped, 'tier-pin.mjs'), tierModule('gold'));
  symlinkSync('..2026_11_23_14_00_00.1', join(mount, '..data'));
  for (const name of ['tier-pin@1.yaml', 'tier-pin.mjs']) symlinkSync(join('..data', name), join(mount, name));
  const linkedMount = join(scratch, `mount-link-${folders}`);
  symlinkSync(mount, linkedMount);
  const migration = migrationByRef(loadCatalog(linkedMount), 'tier-pin@1') as MongoMigration;
  assert.equal(migration.transformSources?.backfill, tierModule('gold'));
});

test('the transform that runs is the text checksummed at load: an edit of the module file afterwards does not run', async () => {
  const dir = folder({ 'tier-pin@1.yaml': mongoYaml('tier-pin', 'tier-pin.mjs'), 'tier-pin.mjs': tierModule('gold') });
  const loaded = migrationByRef(loadCatalog(dir), 'tier-pin@1') as MongoMigration;
  writeFileSync(join(dir, 'tier-pin.mjs'), tierModule('unplanned'));
  const transform = await loadTransform(loaded);
  assert.ok(transform);
  assert.deepEqual(await transform({ _id: 1 }, { BSON: {} as never }), { _id: 1, tier: 'gold' });
  const reloaded = migrationByRef(loadCatalog(dir), 'tier-pin@1');
  assert.notEqual(reloaded.checksum, loaded.checksum, 'the edit is another migration');
});

test('a transform module cannot pull in code outside its checksum: a relative import is refused naming the file', async () => {
  const dir = folder({
    'tier-pin@1.yaml': mongoYaml('tier-pin', 'tier-pin.mjs'),
    'tier-pin.mjs': "import { tier } from './helper.mjs';\nexport function transform(doc) { return { ...doc, tier }; }\n",
    'helper.mjs': "export const tier = 'gold';\n",
  });
  const migration = migrationByRef(loadCatalog(dir), 'tier-pin@1') as MongoMigration;
  await assert.rejects(loadTransform(migration), (error: Error) => {
    assert.ok(isMigrationError(error, 'CATALOG_INVALID'));
    assert.match(error.message, new RegExp(`cannot load the transform module ${join(dir, 'tier-pin.mjs')}: .*helper\\.mjs.*ES module`));
    assert.doesNotMatch(error.message, /data:/, 'the message names the file, not the data: URL');
    return true;
  });
});

test('a throwing transform points its stack at the module file', async () => {
  const dir = folder({ 'tier-pin@1.yaml': mongoYaml('tier-pin', 'tier-pin.mjs'), 'tier-pin.mjs': "export function transform() {\n  throw new Error('no tier');\n}" });
  const transform = await loadTransform(migrationByRef(loadCatalog(dir), 'tier-pin@1') as MongoMigration);
  assert.throws(() => transform?.({}, { BSON: {} as never }), (error: Error) => error.stack?.includes(`${join(dir, 'tier-pin.mjs')}:2:`) === true);
});

test('plannedMigration acts only on the entry with the planned checksum, and says which changed and how', () => {
  const dir = folder({ 'orders-pin@1.yaml': postgresYaml('orders-pin') });
  const catalog = loadCatalog(dir);
  const planned = migrationByRef(catalog, 'orders-pin@1');
  assert.equal(plannedMigration(catalog, 'orders-pin@1', planned.checksum), planned, 'unchanged: the loaded entry');
  assert.equal(plannedMigration(catalog, 'orders-pin@1', undefined), planned, 'a run planned without checksums: the loaded entry');

  writeFileSync(join(dir, 'orders-pin@1.yaml'), postgresYaml('orders-pin', "'USD'"));
  assert.equal(plannedMigration(catalog, 'orders-pin@1', planned.checksum), planned, 'loaded before the edit: the planned entry still runs');
  const edited = migrationByRef(loadCatalog(dir), 'orders-pin@1');
  assert.throws(() => plannedMigration(loadCatalog(dir), 'orders-pin@1', planned.checksum), (error: Error) => {
    assert.ok(isMigrationError(error, 'CATALOG_CHANGED'));
    assert.equal(error.retriable, false);
    assert.equal(error.message, `catalog entry orders-pin@1 changed since the run was planned (planned ${planned.checksum}, now ${edited.checksum})`);
    return true;
  });
  assert.equal(plannedMigration(catalog, 'orders-pin@1', edited.checksum).checksum, edited.checksum, 'loaded before an edit that was planned: read again from the folder');

  rmSync(join(dir, 'orders-pin@1.yaml'));
  assert.throws(() => plannedMigration(catalog, 'orders-pin@1', edited.checksum), /changed since the run was planned \(planned sha256:[0-9a-f]{64}, now no such entry in the catalog\)/);
});
