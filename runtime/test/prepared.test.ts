/**
 * Control-store statements as named prepared statements, on the real PostgreSQL: what is named (and
 * seen in the session's `pg_prepared_statements`), what is not, that a named statement gives the same
 * answers and survives a failure beside it, and that `prepared: false` names nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPool } from '../src/store/pool.ts';
import { maxPreparedTextLength, maxPreparedTexts, statementName, withStatementName } from '../src/store/prepared.ts';
import { freshDatabase, stackEnv } from './support/stack.ts';

const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;

before(async () => {
  db = await freshDatabase(env);
});

after(async () => {
  await db?.drop();
});

/** The statements prepared in the client's own session, by name. */
async function preparedIn(client: { query: (text: string) => Promise<{ rows: { name: string; statement: string }[] }> }): Promise<Map<string, string>> {
  const { rows } = await client.query('SELECT name, statement FROM pg_prepared_statements');
  return new Map(rows.map((row) => [row.name, row.statement]));
}

test('a parameterised statement is prepared once per connection under its text\'s name and answers as before', async () => {
  const pool = createPool(db.url, { max: 1 });
  try {
    const client = await pool.connect();
    try {
      const text = "SELECT $1::int + 1 AS next, 'it''s' AS quoted";
      for (const value of [1, 2, 41]) {
        const { rows } = await client.query<{ next: number; quoted: string }>(text, [value]);
        assert.deepEqual(rows, [{ next: value + 1, quoted: "it's" }]);
      }
      const config = await client.query<{ doubled: number }>({ text: 'SELECT $1::int * 2 AS doubled', values: [21] });
      assert.deepEqual(config.rows, [{ doubled: 42 }]);
      const prepared = await preparedIn(client);
      assert.equal(prepared.get(statementName(text)!), text, 'the string form was prepared once, under its name');
      assert.equal(prepared.get(statementName('SELECT $1::int * 2 AS doubled')!), 'SELECT $1::int * 2 AS doubled', 'the config form too');
      assert.equal(prepared.size, 2, 'statements without values (this very look included) are not prepared');
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
});

test('a failing named statement leaves the connection and its other statements working', async () => {
  const pool = createPool(db.url, { max: 1 });
  try {
    await pool.query('CREATE TABLE numbers (n int PRIMARY KEY)');
    const insert = 'INSERT INTO numbers (n) VALUES ($1)';
    await pool.query(insert, [1]);
    await assert.rejects(pool.query(insert, [1]), /duplicate key/);
    await assert.rejects(pool.query('SELECT $1::int FROM no_such_table', [1]), /no_such_table/);
    await pool.query(insert, [2]);
    const { rows } = await pool.query<{ n: number }>('SELECT n FROM numbers WHERE n >= $1 ORDER BY n', [0]);
    assert.deepEqual(rows.map((row) => row.n), [1, 2]);
    // A transaction that failed on a named statement rolls back, and the statement runs after it.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await assert.rejects(client.query(insert, [2]), /duplicate key/);
      await client.query('ROLLBACK');
      await client.query(insert, [3]);
      const prepared = await preparedIn(client);
      assert.ok(prepared.has(statementName(insert)!));
      assert.ok(!prepared.has(statementName('SELECT $1::int FROM no_such_table')!), 'a statement that never parsed is not kept');
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
});

test('prepared: false names nothing; an over-long text and a statement already named are left as they came', async () => {
  const pool = createPool(db.url, { max: 1, prepared: false });
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT $1::int AS one', [1]);
      assert.equal((await preparedIn(client)).size, 0);
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
  const long = `SELECT $1::text AS padded /* ${'x'.repeat(maxPreparedTextLength)} */`;
  assert.equal(withStatementName(long, ['a']), long);
  const named = { text: 'SELECT $1::int', values: [1], name: 'mine' };
  assert.equal(withStatementName(named, undefined), named);
  assert.equal(withStatementName('SELECT 1', []), 'SELECT 1', 'no values: simple protocol, unnamed');
  assert.deepEqual(withStatementName({ text: 'SELECT $1::int', values: [1] }, undefined), { text: 'SELECT $1::int', values: [1], name: statementName('SELECT $1::int') });
  assert.notEqual(statementName('SELECT $1::int'), statementName('SELECT $1::bigint'), 'two texts, two names');
});

test('past the most distinct texts a process names, new texts run unnamed and known ones keep their names', () => {
  const known = statementName('SELECT $1::int AS kept')!;
  for (let i = 0; i < maxPreparedTexts; i++) statementName(`SELECT $1::int AS filler_${i}`);
  assert.equal(statementName('SELECT $1::int AS one_too_many'), undefined);
  assert.equal(statementName('SELECT $1::int AS kept'), known);
});
