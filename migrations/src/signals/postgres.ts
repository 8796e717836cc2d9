/**
 * PostgreSQL's own load signals for the throttle, one statement per look on a read-only session of its
 * own (`default_transaction_read_only`, extended protocol: one statement per call):
 * - blocked sessions: waiting for a lock (`wait_event_type = 'Lock'`) on the table, or behind a session
 *   that holds one on it (`pg_blocking_pids`), or behind an upshift session (a batch's row locks); and
 *   of those, how many wait behind an upshift session (any shard's batch);
 * - active sessions of the database, upshift's own (`application_name` upshift…) excluded;
 * - the largest `pg_stat_replication.replay_lag` (needs pg_monitor to be visible; null otherwise);
 * - checkpoints requested by WAL volume (`pg_stat_bgwriter.checkpoints_req`, PostgreSQL 17:
 *   `pg_stat_checkpointer.num_requested`), as a delta between looks.
 * The operator's throttle query runs in the same read-only session inside `BEGIN READ ONLY` with a
 * statement timeout, after the catalog SQL guard accepted it as one read-only SELECT.
 */
import pg from 'pg';
import type { PostgresMigration } from '../catalog/load.ts';
import { queryProblem } from '../catalog/sql-guard.ts';
import { ExtendedProtocolClient, sessionConnection } from '../postgres/session.ts';
import { qualifiedTable } from '../postgres/sql.ts';
import { storeKeyOf, type OperatorThrottleQuery, type StoreSignalReader, type StoreSignalReading } from './reading.ts';

/** The look's statement; `$1` is the table as regclass text. */
function signalsStatement(checkpointerView: boolean): string {
  const forced = checkpointerView ? '(SELECT num_requested FROM pg_stat_checkpointer)' : '(SELECT checkpoints_req FROM pg_stat_bgwriter)';
  return `WITH ours AS (SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'upshift%'),
  waiting AS (SELECT a.pid, pg_blocking_pids(a.pid) AS blockers FROM pg_stat_activity a
               WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid()
                 AND a.pid NOT IN (SELECT pid FROM ours))
SELECT
  (SELECT count(*)::int FROM waiting w WHERE
      EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = w.pid AND NOT l.granted AND l.relation = $1::regclass)
   OR EXISTS (SELECT 1 FROM pg_locks h WHERE h.pid = ANY (w.blockers) AND h.granted AND h.relation = $1::regclass)
   OR w.blockers && ARRAY(SELECT pid FROM ours)) AS blocked,
  (SELECT count(*)::int FROM waiting w WHERE w.blockers && ARRAY(SELECT pid FROM ours)) AS blocked_by_upshift,
  (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'
      AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT LIKE 'upshift%') AS active,
  (SELECT count(*)::int FROM pg_stat_replication) AS standbys,
  (SELECT max(extract(epoch FROM replay_lag))::float8 FROM pg_stat_replication) AS lag,
  ${forced}::float8 AS forced`;
}

interface SignalsRow {
  blocked: number;
  blocked_by_upshift: number;
  active: number;
  standbys: number;
  lag: number | null;
  forced: number | null;
}

/** The signal reader of a PostgreSQL migration's database. */
export function createPostgresSignalReader(migration: PostgresMigration, connectionString: string): StoreSignalReader {
  const pool = new pg.Pool({
    ...sessionConnection(connectionString, true), Client: ExtendedProtocolClient, max: 1, application_name: `upshift-signals:${migration.ref}`,
  });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const table = qualifiedTable(migration);
  let checkpointerView: boolean | undefined;
  let lastForced: number | undefined;

  async function look(client: pg.PoolClient): Promise<SignalsRow> {
    checkpointerView ??= Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]?.v ?? 0) >= 170000;
    const result = await client.query<SignalsRow>(signalsStatement(checkpointerView), [table]);
    const row = result.rows[0];
    if (!row) throw new Error('no signals row');
    return row;
  }

  let recent: { at: number; reading: Promise<StoreSignalReading> } | undefined;
  const read = async (query?: OperatorThrottleQuery): Promise<StoreSignalReading> => {
    const client = await pool.connect();
    let broken = false;
    try {
      const row = await look(client);
      const forced = row.forced ?? undefined;
      const forcedCheckpoints = forced === undefined || lastForced === undefined ? undefined : Math.max(0, forced - lastForced);
      lastForced = forced;
      const reading: StoreSignalReading = {
        blockedSessions: row.blocked, blockedByUpshift: row.blocked_by_upshift, activeSessions: row.active, unavailable: [],
        ...(row.standbys > 0 && row.lag !== null ? { replicationLagSeconds: row.lag } : {}),
        ...(forcedCheckpoints === undefined ? {} : { forcedCheckpoints }),
      };
      if (row.standbys > 0 && row.lag === null) reading.unavailable.push('standby lag (needs pg_monitor)');
      if (query && migration.throttleQuery === undefined) reading.unavailable.push(`throttle query (${migration.ref} has no throttleQuery in the catalog)`);
      else if (query && migration.throttleQuery !== undefined) reading.operatorValue = await operatorValue(client, migration.throttleQuery, query.timeoutMs);
      return reading;
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      client.release(broken);
    }
  };
  return {
    storeKey: storeKeyOf(connectionString),
    target: `${migration.schema}.${migration.table}`,
    // Shards of one process share a look taken less than `sharedLookMs` ago (one connection, fewer pg_locks scans).
    read: (query) => {
      const now = Date.now();
      if (recent && now - recent.at < sharedLookMs) return recent.reading;
      const reading = read(query);
      recent = { at: now, reading };
      reading.catch(() => { recent = undefined; });
      return reading;
    },
    close: () => pool.end(),
  };
}

/** Shards of one process share a look at the store younger than this. */
const sharedLookMs = 20;

/**
 * The operator's query's first column, in a read-only transaction with a statement timeout; Infinity
 * (hold) when it is refused by the guard, fails or times out: an operator who asked to be asked is not
 * ignored silently.
 */
async function operatorValue(client: pg.PoolClient, sql: string, timeoutMs: number): Promise<number> {
  if (queryProblem(sql) !== null) return Number.POSITIVE_INFINITY;
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SELECT set_config('statement_timeout', $1, true)`, [`${timeoutMs}ms`]);
    const result = await client.query({ text: sql, rowMode: 'array' });
    const value = Number((result.rows[0] as unknown[] | undefined)?.[0] ?? Number.NaN);
    return Number.isFinite(value) ? value : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}
