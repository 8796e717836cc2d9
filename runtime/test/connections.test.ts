/**
 * Dropped control-store connections (real PostgreSQL, `pg_terminate_backend`): the host pool reports a
 * lost connection and never crashes the process, the statement in flight fails as UNAVAILABLE (retried
 * by delivery) and the next checkout gets a new connection; the relay's LISTEN connection reconnects on
 * its own, and while it cannot, the poll keeps publishing.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createEvent } from '@upshift/events';
import pg from 'pg';
import { pino } from 'pino';
import { isUpshiftError } from '../src/errors.ts';
import { migrateStore } from '../src/store/migrate.ts';
import { redriveEntry } from '../src/store/outbox.ts';
import { createPool, withTransaction } from '../src/store/pool.ts';
import { OutboxRelay } from '../src/store/relay.ts';
import { MemoryTransport } from '../src/transport/memory.ts';
import { wrapError } from '../src/wrap-error.ts';
import { eventually, freshDatabase, stackEnv } from './support/stack.ts';

const env = stackEnv();
let db: Awaited<ReturnType<typeof freshDatabase>>;
let admin: pg.Client;

before(async () => {
  db = await freshDatabase(env);
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const pool = createPool(db.url, { max: 1 });
  await migrateStore(pool);
  await pool.end();
});

after(async () => {
  await admin?.end();
  await db?.drop();
});

/** Terminates the connections of `applicationName` to the test database; returns their pids. */
async function terminate(applicationName: string): Promise<number[]> {
  // In the select list, not the WHERE clause: there it may run before the other conditions, on any row.
  const { rows } = await admin.query<{ pid: number; terminated: boolean }>(
    `SELECT pid, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [applicationName]);
  return rows.filter((row) => row.terminated).map((row) => row.pid);
}

async function backendsOf(applicationName: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [applicationName]);
  return rows.map((row) => row.pid);
}

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: Array<{ msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  return { log: pino({ level: 'info', messageKey: 'msg' }, stream), lines };
}

function anEntry(runId: string) {
  const event = createEvent('migration.expand.requested', { runId, migrations: ['a@1'] }, { producer: 'cli' });
  return { source: event.source, id: event.id, type: event.type, topic: 'conn.upshift.migrate-shard', partitionKey: runId, event: event as unknown as Record<string, unknown> };
}

test('a checked-out connection terminated between two queries: reported, no crash, the next query is UNAVAILABLE and the pool reconnects', async () => {
  const reported: Error[] = [];
  const pool = createPool(db.url, { max: 2, applicationName: 'upshift-test-checkout', onError: (err) => reported.push(err) });
  try {
    const client = await pool.connect();
    await client.query('SELECT 1');
    assert.equal((await terminate('upshift-test-checkout')).length, 1);
    await eventually(async () => (reported.length > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the FATAL message, then the socket's end: both arrive
    const failure = await client.query('SELECT 1').then(() => undefined, (err: unknown) => wrapError(err));
    assert.equal(failure?.code, 'UNAVAILABLE', failure?.message);
    client.release();
    assert.deepEqual((await pool.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }], 'a new connection serves the next query');
    assert.equal(reported.length, 1, 'the loss is reported once');
  } finally {
    await pool.end();
  }
});

test('a transaction whose connection is terminated mid-statement fails as UNAVAILABLE; the next one commits', async () => {
  const pool = createPool(db.url, { max: 1, applicationName: 'upshift-test-tx' });
  try {
    const running = withTransaction(pool, (tx) => tx.query('SELECT pg_sleep(10)'));
    await eventually(async () => ((await backendsOf('upshift-test-tx')).length > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await terminate('upshift-test-tx');
    await assert.rejects(running, (err) => isUpshiftError(err) && err.code === 'UNAVAILABLE' && err.status === 503);
    assert.equal(await withTransaction(pool, async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one), 1);
  } finally {
    await pool.end();
  }
});

test("the relay's LISTEN connection terminated: it reconnects on its own and NOTIFY wakes it again", { timeout: 20_000 }, async () => {
  const pool = createPool(db.url, { max: 2, applicationName: 'upshift-test-relay-pool' });
  const transport = new MemoryTransport();
  const { log, lines } = capturedLogger();
  const relay = new OutboxRelay({ pool, databaseUrl: db.url, publisher: transport, log, pollMs: 60_000 });
  try {
    await relay.start();
    const [before] = await backendsOf('upshift-relay');
    assert.ok(before, 'the relay listens');
    await terminate('upshift-relay');
    await eventually(async () => {
      const now = await backendsOf('upshift-relay');
      return now.length === 1 && now[0] !== before ? true : undefined;
    }, 10_000);
    assert.ok(lines.some((line) => /listener lost/.test(line.msg)), JSON.stringify(lines));
    await eventually(async () => (lines.some((line) => /listener reconnected/.test(line.msg)) ? true : undefined));
    // The poll is a minute away: only the NOTIFY of the commit can wake the relay now.
    await withTransaction(pool, (tx) => redriveEntry(tx, anEntry('run-notify')));
    await eventually(async () => (transport.published.some((m) => m.event.subject === 'run-notify') ? true : undefined), 5000);
  } finally {
    await relay.stop();
    await pool.end();
  }
});

test('while the listener cannot connect the relay keeps polling and retries with backoff', { timeout: 20_000 }, async () => {
  const pool = createPool(db.url, { max: 2, applicationName: 'upshift-test-relay-pool' });
  const transport = new MemoryTransport();
  const { log, lines } = capturedLogger();
  // The listener's URL refuses connections (a closed port); the pool's is fine.
  const unreachable = new URL(db.url);
  unreachable.port = '1';
  const relay = new OutboxRelay({ pool, databaseUrl: unreachable.toString(), publisher: transport, log, pollMs: 100 });
  try {
    await relay.start();
    await withTransaction(pool, (tx) => redriveEntry(tx, anEntry('run-poll')));
    await eventually(async () => (transport.published.some((m) => m.event.subject === 'run-poll') ? true : undefined), 5000);
    await eventually(async () => (lines.filter((line) => /listener unavailable/.test(line.msg)).length >= 3 ? true : undefined), 10_000);
  } finally {
    await relay.stop();
    await pool.end();
  }
});
