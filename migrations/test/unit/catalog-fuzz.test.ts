/**
 * A seeded fuzz of the catalog loader: 1,000 entries built from examples/catalog, each with one to
 * three mutations (injection pieces in SQL fragments, pasted column constraints, bad names, wrong
 * value types, random characters). Every entry is accepted or rejected with problems that name a field;
 * nothing throws. An entry with an attack is always rejected, at the attack's field when it is the
 * entry's only flaw; benign tricky values (`'a;b'`, `$$--$$`, `E'\''`) alone are always accepted.
 * Prints the seed (UPSHIFT_TEST_SEED replays it).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { lintCatalog } from '../../src/index.ts';
import { writeCatalog } from '../helpers/catalog.ts';
import { seededRandom, seedLine, testSeed } from '../../../test/support/seeded-random.ts';

type Entry = Record<string, unknown>;
/** `denied`: calls a deny-listed function, found by the cross-field rules, which run once the entry is otherwise valid. */
type Expect = 'reject' | 'denied' | 'accept' | 'either';
/** A mutation: where it changed the entry and what the loader must say about it. */
interface Mutation {
  path: string;
  expect: Expect;
  what: string;
}

const examples = fileURLToPath(new URL('../../../examples/catalog', import.meta.url));
const bases = ['orders-currency@1.yaml', 'customers-profile@1.yaml'].map((name) => ({ name, entry: parse(readFileSync(join(examples, name), 'utf8')) as Entry }));

const attacks = {
  expression: [
    String.raw`E'\'' ; COMMIT ; DROP TABLE orders ; SELECT E'\''`, String.raw`E'\'') AS text) ; COMMIT ; DELETE FROM orders ; SELECT CAST((E'\''`,
    "'x'); DROP TABLE orders; --", 'a) OR (true', 'note -- rest', 'note /* x */', '$1', '1 AS x', '1 FROM orders',
    '(SELECT id FROM orders FOR UPDATE)', '(WITH d AS (DELETE FROM orders RETURNING 1) SELECT 1)', 'pg_sleep(10)::text',
    'pg_terminate_backend(1)::text', "dblink_exec('x', 'DROP TABLE orders')::text", '', 'a\u0000b',
  ],
  query: [
    String.raw`SELECT E'\'' ; COMMIT ; DROP TABLE orders ; SELECT E'\''`, 'SELECT 1; DROP TABLE orders', 'DROP TABLE orders',
    'WITH d AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM d', 'SELECT count(*) INTO x FROM orders',
    'SELECT count(*) FROM orders FOR UPDATE', 'SELECT pg_cancel_backend(1)', 'SELECT count(*) FROM orders WHERE id = $1', '',
  ],
  type: ['bigint unique', 'text references users', 'text default current_user', 'text collate c', 'bigint primary key', 'text; DROP TABLE orders', 'Text'],
  identifier: ['Orders', 'orders; DROP TABLE x', '"orders"', 'public.orders', 'a'.repeat(64), '', 'a b'],
  mongoKey: ['$where', 'a..b', '$set', 'profile.$x'],
};
const benign = {
  expression: ["'a;b' || note", '$$ -- ; $$ || note', String.raw`E'it\'s' || note`, '"weird;name" + 1', "coalesce(note, '/* x */')"],
  query: ["SELECT count(*) FROM orders WHERE note = 'a;b' -- a comment", 'SELECT count(*) FROM orders WHERE note LIKE $$%;%$$'],
  type: ['numeric(12,2)', 'double precision', 'text[]', 'timestamp with time zone', 'character varying(20)'],
};
const noise = [';', "'", '"', '(', ')', '-', '*', '/', '$', '\\', 'E', '[', ']', ':', ',', ' ', '\n', '0'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Inserts, deletes or replaces up to three characters. */
function scramble(random: () => number, text: string): string {
  let result = text;
  for (let count = 1 + Math.floor(random() * 3); count > 0; count -= 1) {
    const at = Math.floor(random() * (result.length + 1));
    const op = random();
    if (op < 0.4) result = result.slice(0, at) + pick(random, noise) + result.slice(at);
    else if (op < 0.7) result = result.slice(0, at) + result.slice(at + 1);
    else result = result.slice(0, at) + pick(random, noise) + result.slice(at + 1);
  }
  return result;
}

/** The SQL fields of a PostgreSQL entry: [path, container, key, kind]. */
function sqlFields(entry: Entry): Array<[string, Entry, string, 'expression' | 'query']> {
  const fields: Array<[string, Entry, string, 'expression' | 'query']> = [];
  for (const section of ['backfill', 'down'] as const) {
    const set = (entry[section] as Entry | undefined)?.['set'] as Entry | undefined;
    // Only well-named columns: a mutated key stays a flaw of its own (it is not repaired by a new value).
    for (const column of Object.keys(set ?? {}).filter((name) => /^[a-z_][a-z0-9_]{0,62}$/.test(name))) fields.push([`${section}.set.${column}`, set as Entry, column, 'expression']);
  }
  ((entry['invariants'] ?? []) as Entry[]).forEach((invariant, index) => fields.push([`invariants[${index}].sql`, invariant, 'sql', 'query']));
  return fields;
}

function attackExpectation(sql: string): Expect {
  return /pg_sleep|pg_terminate_backend|pg_cancel_backend|dblink/.test(sql) && !sql.includes(';') ? 'denied' : 'reject';
}

function mutatePostgres(random: () => number, entry: Entry): Mutation {
  const choice = random();
  if (choice < 0.45) {
    const [path, container, key, kind] = pick(random, sqlFields(entry));
    const mode = random();
    if (mode < 0.5) container[key] = pick(random, attacks[kind]);
    else if (mode < 0.7) container[key] = pick(random, benign[kind]);
    else container[key] = scramble(random, String(container[key]));
    const expect: Expect = mode < 0.5 ? attackExpectation(String(container[key])) : mode < 0.7 ? 'accept' : 'either';
    return { path, expect, what: `${kind} ${JSON.stringify(container[key])}` };
  }
  if (choice < 0.6) {
    const columns = (entry['expand'] as Entry)['addColumns'] as Entry[];
    const index = Math.floor(random() * columns.length);
    const mode = random();
    const column = columns[index] as Entry;
    column['type'] = mode < 0.5 ? pick(random, attacks.type) : mode < 0.75 ? pick(random, benign.type) : scramble(random, String(column['type']));
    return { path: `expand.addColumns[${index}].type`, expect: mode < 0.5 ? 'reject' : mode < 0.75 ? 'accept' : 'either', what: `type ${JSON.stringify(column['type'])}` };
  }
  if (choice < 0.75) {
    const field = pick(random, ['table', 'key', 'schema']);
    entry[field] = pick(random, attacks.identifier);
    return { path: field, expect: 'reject', what: `identifier ${JSON.stringify(entry[field])}` };
  }
  if (choice < 0.85) {
    const set = (entry['backfill'] as Entry)['set'] as Entry;
    const name = pick(random, attacks.identifier);
    set[name] = '1';
    return { path: `backfill.set.${name}`, expect: 'reject', what: `set key ${JSON.stringify(name)}` };
  }
  if (choice < 0.93) {
    entry['marker'] = { guard: pick(random, attacks.expression) };
    return { path: 'marker.guard', expect: attackExpectation(String((entry['marker'] as Entry)['guard'])), what: `guard ${JSON.stringify((entry['marker'] as Entry)['guard'])}` };
  }
  const [path, container, key] = pick(random, sqlFields(entry));
  container[key] = pick(random, [42, null, ['SELECT 1'], { sql: 'SELECT 1' }]);
  return { path, expect: 'reject', what: `value ${JSON.stringify(container[key])}` };
}

function mutateMongo(random: () => number, entry: Entry): Mutation {
  const backfill = entry['backfill'] as Entry;
  const choice = random();
  if (choice < 0.35) {
    const key = pick(random, attacks.mongoKey);
    (backfill['set'] as Entry)[key] = 'x';
    return { path: `backfill.set.${key}`, expect: 'reject', what: `set key ${key}` };
  }
  if (choice < 0.6) {
    const invariants = entry['invariants'] as Entry[];
    const index = Math.floor(random() * invariants.length);
    (invariants[index] as Entry)['filter'] = { $where: 'sleep(1000) || true' };
    return { path: `invariants[${index}].filter`, expect: 'reject', what: 'filter $where' };
  }
  if (choice < 0.8) {
    const value = pick(random, [...attacks.expression, ...benign.expression]);
    (backfill['set'] as Entry)['profile.note'] = value;
    return { path: 'backfill.set.profile.note', expect: value.startsWith('$') ? 'either' : 'accept', what: `literal ${JSON.stringify(value)}` };
  }
  entry['collection'] = pick(random, ['customers; drop', '$cmd', '', 'a'.repeat(70)]);
  return { path: 'collection', expect: 'reject', what: `collection ${JSON.stringify(entry['collection'])}` };
}

const names = (path: string, problemPath: string) => problemPath === path || problemPath.startsWith(`${path}.`) || problemPath.startsWith(`${path}[`);

test('1,000 mutated catalog entries are each accepted or rejected naming the field; nothing throws', () => {
  const seed = testSeed();
  console.log(`catalog fuzz: ${seedLine(seed)}`);
  const random = seededRandom(seed);
  const folder = writeCatalog({});
  const started = performance.now();
  let rejected = 0;
  try {
    for (let round = 0; round < 1000; round += 1) {
      const base = pick(random, bases);
      const entry = structuredClone(base.entry);
      const mutations: Mutation[] = [];
      const count = 1 + Math.floor(random() * 3);
      for (let index = 0; index < count; index += 1) mutations.push(entry['store'] === 'postgres' ? mutatePostgres(random, entry) : mutateMongo(random, entry));
      const file = join(folder.dir, base.name);
      writeFileSync(file, stringify(entry));
      const context = `${seedLine(seed)} round ${round} ${base.name}: ${mutations.map((m) => `${m.path} ← ${m.what}`).join('; ')}`;
      let problems: ReturnType<typeof lintCatalog>;
      try {
        problems = lintCatalog(folder.dir);
      } catch (error) {
        assert.fail(`lint threw ${String(error)} (${context})`);
      } finally {
        rmSync(file, { force: true });
      }
      if (problems.length > 0) rejected += 1;
      for (const problem of problems) {
        assert.ok(problem.message.length > 0 && (problem.path !== '' || /"[^"]+"/.test(problem.message)), `a problem names no field: ${JSON.stringify(problem)} (${context})`);
      }
      // A later mutation of the same field replaces an earlier one; cross-field rules and key checks run once
      // the rest of the entry is valid, so an attack must be named at its field when it is the only flaw.
      const effective = mutations.filter((mutation, index) => !mutations.slice(index + 1).some((later) => later.path === mutation.path));
      const flaws = effective.filter((mutation) => mutation.expect !== 'accept');
      for (const mutation of flaws.filter((m) => m.expect === 'reject' || m.expect === 'denied')) {
        assert.ok(problems.length > 0, `${mutation.path} was accepted (${context})`);
        if (flaws.length === 1) assert.ok(problems.some((problem) => names(mutation.path, problem.path)), `${mutation.path} was not named: ${JSON.stringify(problems)} (${context})`);
      }
      if (flaws.length === 0) assert.deepEqual(problems, [], context);
    }
  } finally {
    folder.remove();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`catalog fuzz: ${rejected} of 1000 rejected, ${seconds.toFixed(1)} s`);
  assert.ok(rejected > 300 && rejected < 1000, `a fuzz that rejects ${rejected} of 1000 tests little`);
  assert.ok(seconds < 20, `took ${seconds.toFixed(1)} s`);
});
