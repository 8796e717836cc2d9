/**
 * PostgreSQL client factory for the control store, and the one transaction helper every write goes
 * through (errors wrapped at this boundary).
 */
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { wrapError } from '../wrap-error.ts';
import { PreparingClient } from './prepared.ts';

/** A client inside an open transaction; handlers receive this and nothing else to write with. */
export type TxClient = PoolClient;

/** Control-store connections of an instance whose concurrency is unknown (and the most the default gives). */
export const controlPoolCeiling = 10;

/**
 * The default size of an instance's control-store pool for `concurrency` requests at once: two for the
 * instance itself (the relay's drain, a poll or a readiness probe) and two per request in flight (its
 * looks and decision, plus a heartbeat or a checkpoint beside them), at most `controlPoolCeiling`. A
 * migrate-shard pod (containerConcurrency 1) holds at most 4, plan/rollout/verify 10. No transaction
 * stays open while a handler waits, so a request needs a connection only for milliseconds at a time.
 */
export function controlPoolMax(concurrency: number | undefined): number {
  return concurrency === undefined ? controlPoolCeiling : Math.min(controlPoolCeiling, 2 + 2 * concurrency);
}

/**
 * Creates the control-store pool, whose parameterised statements are prepared once per connection
 * (`prepared: false`: each parsed and planned anew, for a pooler that keeps no prepared statements). A connection that drops (pg_terminate_backend, a failover) is
 * reported to `onError` once and never crashes the process; see `surviveDroppedConnections`.
 */
export function createPool(
  databaseUrl: string,
  options: { max?: number; applicationName?: string; onError?: (err: Error) => void; prepared?: boolean } = {},
): Pool {
  const pool = new pg.Pool({
    // Parameterised statements as named prepared statements (store/prepared.ts), unless turned off.
    ...(options.prepared === false ? {} : { Client: PreparingClient }),
    connectionString: databaseUrl,
    max: options.max ?? controlPoolCeiling,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'upshift',
  });
  return surviveDroppedConnections(pool, options.onError);
}

/**
 * node-postgres emits 'error' on a client whose connection ends. The pool listens only while a client
 * is idle: one checked out (a transaction between two statements, a handler between two queries) has
 * no listener, and an unhandled 'error' event kills the process. So every client gets a listener for
 * its whole life, reporting its first error to `onError` (a terminated backend sends its FATAL message,
 * then the socket ends: two errors, one loss); the pool's own 'error' (idle clients) is that same
 * error, already reported. The statement in flight fails (wrapped as UNAVAILABLE, the delivery is
 * retried), the pool discards the broken client on release and opens a new one on the next checkout.
 */
export function surviveDroppedConnections(pool: Pool, onError: (err: Error) => void = () => undefined): Pool {
  pool.on('connect', (client) => {
    let reported = false;
    client.on('error', (err) => {
      if (!reported) onError(err);
      reported = true;
    });
  });
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` in one transaction: COMMIT on success, ROLLBACK and a wrapped UpshiftError on failure. */
export function withTransaction<T>(pool: Pool, fn: (tx: TxClient) => Promise<T>): Promise<T> {
  return withTransactionFrom(pool, async (client) => { await client.query('BEGIN'); }, (tx) => fn(tx));
}

/**
 * What a transaction body hands back: its value, and optionally its last statement, which then travels
 * with the COMMIT in ONE round trip (simple-query text: every value in it escaped with the driver's
 * escapeLiteral). Should it fail, nothing after it runs and the transaction rolls back as a whole.
 */
export interface Finished<T> {
  readonly value: T;
  readonly beforeCommit?: string | undefined;
}

/**
 * Like withTransaction, but `begin` opens the transaction (it must issue BEGIN) and its result is
 * handed to `fn`: lets BEGIN and the first statement share one round trip.
 */
export function withTransactionFrom<B, T>(
  pool: Pool,
  begin: (client: PoolClient) => Promise<B>,
  fn: (tx: TxClient, begun: B) => Promise<T>,
): Promise<T> {
  return withTransactionFinishing(pool, begin, async (tx, begun) => ({ value: await fn(tx, begun) }));
}

/**
 * Like withTransactionFrom, and the body's last statement (Finished.beforeCommit) goes with the COMMIT:
 * a transaction of one claim, the caller's work and one write costs two round trips of its own.
 */
export async function withTransactionFinishing<B, T>(
  pool: Pool,
  begin: (client: PoolClient) => Promise<B>,
  fn: (tx: TxClient, begun: B) => Promise<Finished<T>>,
): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw wrapError(err, { operation: 'connect' });
  }
  let broken = false;
  try {
    const { value, beforeCommit } = await fn(client, await begin(client));
    await client.query(beforeCommit === undefined ? 'COMMIT' : `${beforeCommit}; COMMIT`);
    return value;
  } catch (err) {
    broken = await rollbackQuietly(client);
    throw wrapError(err, { operation: 'transaction' });
  } finally {
    client.release(broken ? true : undefined);
  }
}

/** Rolls back; returns true when the connection is unusable and must be discarded. */
async function rollbackQuietly(client: PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return false;
  } catch {
    return true;
  }
}

/** Checks the store answers; used by readiness. */
export async function pingStore(pool: Pool): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw wrapError(err, { operation: 'ping' });
  }
}
