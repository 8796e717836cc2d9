import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';

const table = `stack_test_${process.pid}_${Date.now()}`;
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });

before(async () => {
  assert.ok(process.env.DATABASE_URL, 'DATABASE_URL must be set (run through `npm test`)');
  await client.connect();
  await client.query(`create table ${table} (id int primary key, note text not null)`);
});

after(async () => {
  await client.query(`drop table if exists ${table}`);
  await client.end();
});

test('a committed transaction is visible to another connection', async () => {
  await client.query('begin');
  await client.query(`insert into ${table} values (1, 'kept')`);
  await client.query('commit');
  const other = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await other.connect();
  try {
    const { rows } = await other.query(`select note from ${table} where id = 1`);
    assert.deepEqual(rows, [{ note: 'kept' }]);
  } finally {
    await other.end();
  }
});

test('a rolled-back transaction leaves nothing behind, and a failed statement aborts the transaction', async () => {
  await client.query('begin');
  await client.query(`insert into ${table} values (2, 'discarded')`);
  await client.query('rollback');
  const { rowCount } = await client.query(`select 1 from ${table} where id = 2`);
  assert.equal(rowCount, 0);

  await client.query('begin');
  await assert.rejects(client.query(`insert into ${table} values (1, 'duplicate')`), (error: { code?: string }) => error.code === '23505');
  await assert.rejects(client.query('select 1'), (error: { code?: string }) => error.code === '25P02');
  await client.query('rollback');
});
