/** Identifier validation and SQL fragment checks (PostgreSQL's parser, see sql-guard.test.ts), table-driven. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { derivedIdentifier } from '../../src/catalog/identifiers.ts';
import { isSqlIdentifier, sqlFragmentProblem } from '../../src/index.ts';

const identifiers: Array<[string, boolean]> = [
  ['orders', true], ['amount_minor', true], ['_private', true], ['t2', true], ['a'.repeat(63), true],
  ['a'.repeat(64), false], ['Orders', false], ['2fast', false], ['name; DROP TABLE x', false], ['"orders"', false],
  ['public.orders', false], ['', false], ['naïve', false], ['a b', false], ['a-b', false],
];
for (const [value, valid] of identifiers) {
  test(`isSqlIdentifier(${JSON.stringify(value.length > 20 ? `${value.slice(0, 8)}…(${value.length})` : value)}) is ${valid}`, () => {
    assert.equal(isSqlIdentifier(value), valid);
  });
}

const fragments: Array<[string, string | null]> = [
  ['round(amount * 100)::bigint', null],
  ["coalesce(currency, 'EUR')", null],
  ["'a;b' || note", null],
  ['"weird;name" + 1', null],
  ["'it''s' || note", null],
  ["E'it\\'s;' || note", null],
  ['$$x; DROP TABLE orders$$', null],
  ['1; DROP TABLE orders', 'must be a single expression: ";" is not allowed (one statement only)'],
  ["E'\\'' ; COMMIT ; DROP TABLE orders ; SELECT E'\\''", 'must be a single expression: ";" is not allowed (one statement only)'],
  ['note -- comment', 'must be a single expression: SQL comments are not allowed'],
  ['note /* x */', 'must be a single expression: SQL comments are not allowed'],
  ["'unterminated", 'must be a single expression: PostgreSQL cannot parse it: unterminated quoted string at or near "\'unterminated"'],
  ['a) OR (true', 'must be a single expression: unbalanced ")"'],
];
for (const [sql, problem] of fragments) {
  test(`sqlFragmentProblem(${JSON.stringify(sql)})`, () => {
    assert.equal(sqlFragmentProblem(sql), problem);
  });
}

test('derivedIdentifier is a valid identifier, deterministic, and hashed when too long', () => {
  const hash = (text: string) => `h${text.length.toString(16).padStart(8, '0')}`;
  assert.equal(derivedIdentifier(['orders', 'orders-currency', 'v1'], hash), 'orders__orders_currency__v1');
  assert.equal(derivedIdentifier(['9lives', 'x'], hash), '_9lives__x');
  const long = derivedIdentifier(['t'.repeat(60), 'migration-name', 'v1'], hash);
  assert.equal(long.length, 63);
  assert.ok(isSqlIdentifier(long));
  assert.equal(long, derivedIdentifier(['t'.repeat(60), 'migration-name', 'v1'], hash));
});
