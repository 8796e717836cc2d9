/** Catalog loading without a database: formats, checksums, every problem with file, field and reason. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canonicalJson, lintCatalog, loadCatalog, migrationChecksum } from '../../src/index.ts';
import { writeCatalog } from '../helpers/catalog.ts';

const examples = fileURLToPath(new URL('../../../examples/catalog', import.meta.url));

test('the example catalog loads: two migrations, name@version, sha256 checksums', () => {
  const catalog = loadCatalog(examples);
  assert.deepEqual([...catalog.migrations.keys()], ['customers-profile@1', 'orders-currency@1']);
  for (const migration of catalog.migrations.values()) assert.match(migration.checksum, /^sha256:[0-9a-f]{64}$/);
});

test('checksums ignore comments, key order and formatting but not meaning', () => {
  assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }), '{"a":[2,{"c":4,"d":3}],"b":1}');
  assert.equal(migrationChecksum({ a: 1, b: 2 }), migrationChecksum({ b: 2, a: 1 }));
  assert.notEqual(migrationChecksum({ a: 1 }), migrationChecksum({ a: 2 }));
});

const bad: Array<{ name: string; file: string; yaml: string; problems: Array<[string, RegExp]> }> = [
  {
    name: 'wrong file name, unknown field, bad marker',
    file: 'orders@2.yaml',
    yaml: 'apiVersion: upshift.dev/v1alpha1\nkind: Migration\nname: orders\nversion: 1\nstore: postgres\nconnection: DB_URL\ntable: orders\nkey: id\nmarker: { column: v, from: 1, to: 1 }\nbackfill: { set: { a: "1" } }\n',
    problems: [['marker.to', /must differ/], ['name', /must be named orders@1\.yaml/]],
  },
  {
    name: 'a URL where the variable name goes, a typo in a phase name',
    file: 'x@1.yaml',
    yaml: 'apiVersion: upshift.dev/v1alpha1\nkind: Migration\nname: x\nversion: 1\nstore: postgres\nconnection: "postgres://u:p@h/db"\ntable: t\nkey: id\nmarker: { column: v, from: 1, to: 2 }\nbackfil: { set: { a: "1" } }\n',
    problems: [['connection', /environment variable name/], ['backfill', /expected object|Invalid input/], ['', /backfil/]],
  },
  {
    name: 'mongo paths that conflict and touch the marker',
    file: 'm@1.yaml',
    yaml: 'apiVersion: upshift.dev/v1alpha1\nkind: Migration\nname: m\nversion: 1\nstore: mongodb\nconnection: MONGO_URL\ncollection: c\nmarker: { field: v, from: 1, to: 2 }\nbackfill: { set: { "profile": 1, "profile.tier": 2, "v": 3, "$where": 4 } }\n',
    problems: [['backfill.set.$where', /key must be a field path/]],
  },
  {
    name: 'not YAML at all',
    file: 'broken@1.yaml',
    yaml: 'name: [unclosed\n',
    problems: [['', /YAML/]],
  },
];

for (const { name, file, yaml, problems } of bad) {
  test(`lintCatalog reports every problem: ${name}`, () => {
    const catalog = writeCatalog({ [file]: yaml });
    try {
      const found = lintCatalog(catalog.dir);
      for (const problem of found) assert.ok(problem.file.endsWith(file));
      for (const [path, message] of problems) {
        assert.ok(found.some((problem) => problem.path === path && message.test(problem.message)), `${path} ${message} in ${JSON.stringify(found)}`);
      }
    } finally {
      catalog.remove();
    }
  });
}

test('mongo rules: conflicting paths and the marker are caught once the shape is valid', () => {
  const catalog = writeCatalog({ 'm@1.yaml': 'apiVersion: upshift.dev/v1alpha1\nkind: Migration\nname: m\nversion: 1\nstore: mongodb\nconnection: MONGO_URL\ncollection: c\nmarker: { field: v, from: 1, to: 2 }\nbackfill: { set: { "profile": 1, "profile.tier": 2, "v.x": 3 } }\n' });
  try {
    const found = lintCatalog(catalog.dir).map((problem) => `${problem.path}: ${problem.message}`);
    assert.ok(found.some((line) => line.startsWith('backfill.set.v.x: touches the version marker')), found.join('\n'));
    assert.ok(found.some((line) => line.startsWith('backfill.set.profile.tier: profile.tier conflicts with profile')), found.join('\n'));
  } finally {
    catalog.remove();
  }
});
