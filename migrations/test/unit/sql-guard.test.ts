/**
 * Catalog SQL as PostgreSQL's own parser reads it (sql-guard.ts), table-driven: what each kind of
 * fragment may be, the attack strings of issue 16, column types, the function deny-list and
 * `trusted: true`, and that every refusal reaches `catalog lint` naming the file and field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  columnTypeProblem, conditionProblem, deniedFunctionCalls, expressionProblem, queryProblem,
} from '../../src/catalog/sql-guard.ts';
import { lintCatalog } from '../../src/index.ts';
import { ordersMigrationYaml, writeCatalog } from '../helpers/catalog.ts';

/** The invariant that made verify's read-only check drop a table before issue 16. */
const invariantAttack = String.raw`SELECT E'\'' ; COMMIT ; DROP TABLE orders ; SELECT E'\''`;
/** The `set:` expression of the same shape that made plan's preflight delete rows. */
const setAttack = String.raw`E'\'') AS text) ; COMMIT ; DELETE FROM orders ; SELECT CAST((E'\''`;

const expressions: Array<[string, RegExp | null]> = [
  ['round(coalesce(amount, 0) * 100)::bigint', null],
  ["coalesce(currency, 'EUR')", null],
  [String.raw`E'\'' || note`, null],
  ['$tag$ ; DROP TABLE orders $tag$', null],
  ['(SELECT rate FROM fx WHERE fx.currency = orders.currency)', null],
  ['CASE WHEN amount > 0 THEN 1 ELSE 0 END', null],
  ['(ARRAY[1, 2])[1]', null],
  [setAttack, /^must be a single expression: unbalanced "\)"$/],
  [invariantAttack, /^must be a single expression: ";" is not allowed/],
  ["'x'); DROP TABLE orders; --", /^must be a single expression/],
  ['1; DROP TABLE orders', /";" is not allowed/],
  ['a) OR (true', /unbalanced "\)"/],
  ['(a', /unbalanced brackets/],
  ['note -- hides the rest of the statement', /SQL comments are not allowed/],
  ['note /* x */', /SQL comments are not allowed/],
  ['$1', /parameters like \$1 are not allowed/],
  ['1 AS x', /PostgreSQL cannot parse it: syntax error at or near "AS"/],
  ['1 FROM orders', /PostgreSQL cannot parse it/],
  ['*', /PostgreSQL cannot parse it/],
  ['', /it is empty/],
  ['a\u0000', /NUL character/],
  ['(SELECT id FROM orders FOR UPDATE)', /^must only read: locking clauses/],
  ['(WITH gone AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM gone)', /^must only read: DELETE is not allowed$/],
  ["'unterminated", /unterminated quoted string at or near "'unterminated"/],
];
for (const [sql, problem] of expressions) {
  test(`expression ${JSON.stringify(sql)} is ${problem ? 'refused' : 'accepted'}`, () => {
    const found = expressionProblem(sql);
    if (problem === null) assert.equal(found, null);
    else assert.match(found ?? '(accepted)', problem);
  });
}

const conditions: Array<[string, RegExp | null]> = [
  ["status = 'open'", null],
  ['amount IS NULL AND note LIKE $$%;%$$', null],
  ['true', null],
  ['1', /must be a boolean condition/],
  ["'yes'", /must be a boolean condition/],
  ['schema_version = 1) OR (true', /unbalanced/],
];
for (const [sql, problem] of conditions) {
  test(`condition ${JSON.stringify(sql)} is ${problem ? 'refused' : 'accepted'}`, () => {
    const found = conditionProblem(sql);
    if (problem === null) assert.equal(found, null);
    else assert.match(found ?? '(accepted)', problem);
  });
}

const queries: Array<[string, RegExp | null]> = [
  ['SELECT count(*) FROM orders WHERE schema_version = 2 AND amount_minor IS NULL', null],
  ['WITH migrated AS (SELECT * FROM orders WHERE schema_version = 2) SELECT count(*) FROM migrated', null],
  ['SELECT count(*) FROM orders -- a comment is harmless in a query run as written', null],
  ['SELECT 1 UNION ALL SELECT 2', null],
  [invariantAttack, /^must be one SELECT statement: ";" is not allowed/],
  ['SELECT 1;', /";" is not allowed/],
  ['DROP TABLE orders', /^must be one SELECT statement, not DROP$/],
  ['EXPLAIN ANALYZE DELETE FROM orders', /not EXPLAIN/],
  ['WITH gone AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM gone', /^must only read: DELETE is not allowed$/],
  ['WITH moved AS (UPDATE orders SET note = note RETURNING 1) SELECT count(*) FROM moved', /UPDATE is not allowed/],
  ['SELECT * INTO copy_of_orders FROM orders', /SELECT INTO is not allowed/],
  ['SELECT count(*) FROM orders FOR SHARE', /locking clauses/],
  ['SELECT count(*) FROM orders WHERE id = $1', /parameters like \$1/],
];
for (const [sql, problem] of queries) {
  test(`invariant ${JSON.stringify(sql)} is ${problem ? 'refused' : 'accepted'}`, () => {
    const found = queryProblem(sql);
    if (problem === null) assert.equal(found, null);
    else assert.match(found ?? '(accepted)', problem);
  });
}

const types: Array<[string, boolean]> = [
  ['bigint', true], ['text', true], ['numeric(12,2)', true], ['numeric(12, 2)', true], ['text[]', true],
  ['character varying(20)', true], ['timestamp with time zone', true], ['timestamp(3) with time zone', true],
  ['double precision', true], ['public.money_amount', true], ['interval day to second(3)', true],
  ['bigint unique', false], ['text references users', false], ['text default current_user', false],
  ['text collate c', false], ['text COLLATE "C"', false], ['integer not null', false], ['bigint primary key', false],
  ['bigint generated always as identity', false], ['integer check (true)', false], ['setof integer', false],
  ['integer alias', false], ['text; DROP TABLE orders', false], ['Bigint', false], ['', false],
];
for (const [type, valid] of types) {
  test(`column type ${JSON.stringify(type)} is ${valid ? 'accepted' : 'refused'}`, () => {
    const problem = columnTypeProblem(type);
    if (valid) assert.equal(problem, null);
    else assert.match(problem ?? '(accepted)', /^must be only a column type/);
  });
}

test('calls of deny-listed functions are found anywhere in the tree, schema-qualified or quoted', () => {
  assert.deepEqual(deniedFunctionCalls('pg_catalog.pg_sleep(1) + 1', 'expression'), ['pg_sleep']);
  assert.deepEqual(deniedFunctionCalls('(SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity)', 'expression'), ['pg_terminate_backend']);
  assert.deepEqual(deniedFunctionCalls(`SELECT count(*) FROM dblink('db', 'SELECT 1') AS t(x int) WHERE "set_config"('a', 'b', false) IS NULL`, 'query'), ['dblink', 'set_config']);
  assert.deepEqual(deniedFunctionCalls('SELECT lo_import($$/etc/passwd$$), pg_read_file($$x$$), pg_advisory_lock(1), pg_try_advisory_lock(1)', 'query'),
    ['lo_import', 'pg_advisory_lock', 'pg_read_file', 'pg_try_advisory_lock']);
  assert.deepEqual(deniedFunctionCalls('round(amount * 100)::bigint', 'expression'), []);
  assert.deepEqual(deniedFunctionCalls("query_to_xml('DELETE FROM orders', true, false, '')", 'condition'), ['query_to_xml']);
});

test('a deny-listed call is refused naming file and field, unless the entry says trusted: true; trusted never allows a second statement', () => {
  const withExtra = (name: string, extra: string) => ordersMigrationYaml({ name, table: 'orders', extraSet: { note: 'pg_sleep(0)::text' } }) + extra;
  const catalog = writeCatalog({
    'sleepy@1.yaml': withExtra('sleepy', ''),
    'trusted@1.yaml': withExtra('trusted', 'trusted: true\n'),
    'killer@1.yaml': withExtra('killer', 'trusted: true\ninvariants:\n  - { name: kill, sql: "SELECT pg_terminate_backend(pg_backend_pid()); DROP TABLE orders" }\n'),
  });
  try {
    const lines = lintCatalog(catalog.dir).map((problem) => `${problem.file.split('/').at(-1)}: ${problem.path}: ${problem.message}`);
    assert.deepEqual(lines, [
      'killer@1.yaml: invariants[0].sql: must be one SELECT statement: ";" is not allowed (one statement only)',
      'sleepy@1.yaml: backfill.set.note: calls pg_sleep, which a catalog entry may only call with trusted: true',
    ]);
  } finally {
    catalog.remove();
  }
});

test('a throttle query is guarded like every catalog SQL: one read-only SELECT, no deny-listed call, named by its field', () => {
  const withThrottle = (name: string, sql: string) => `${ordersMigrationYaml({ name, table: 'orders' })}throttleQuery: ${JSON.stringify(sql)}\n`;
  const catalog = writeCatalog({
    'lag@1.yaml': withThrottle('lag', "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"),
    'writer@1.yaml': withThrottle('writer', 'DELETE FROM orders RETURNING 1'),
    'sleeper@1.yaml': withThrottle('sleeper', 'SELECT pg_sleep(10)'),
  });
  try {
    const paths = lintCatalog(catalog.dir).map((problem) => `${problem.file.split('/').at(-1)}: ${problem.path}`);
    assert.deepEqual(paths, ['sleeper@1.yaml: throttleQuery', 'writer@1.yaml: throttleQuery']);
  } finally {
    catalog.remove();
  }
});

test('the attack strings and pasted column constraints are refused by catalog lint, naming file and field', () => {
  const invariant = `${ordersMigrationYaml({ name: 'invariant', table: 'orders' })}invariants:\n  - { name: harmless, sql: ${JSON.stringify(invariantAttack)} }\n`;
  const catalog = writeCatalog({
    'invariant@1.yaml': invariant,
    'set@1.yaml': ordersMigrationYaml({ name: 'set', table: 'orders', extraSet: { note: setAttack } }),
    'types@1.yaml': ordersMigrationYaml({ name: 'types', table: 'orders', addColumns: ['{ name: a, type: bigint unique }', '{ name: b, type: text references users }', '{ name: c, type: text default current_user }'] }),
  });
  try {
    const paths = lintCatalog(catalog.dir).map((problem) => `${problem.file.split('/').at(-1)}: ${problem.path}`);
    assert.deepEqual(paths, [
      'invariant@1.yaml: invariants[0].sql',
      'set@1.yaml: backfill.set.note',
      'types@1.yaml: expand.addColumns[1].type',
      'types@1.yaml: expand.addColumns[2].type',
      'types@1.yaml: expand.addColumns[3].type',
    ]);
  } finally {
    catalog.remove();
  }
});
