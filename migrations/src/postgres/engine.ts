/**
 * The PostgreSQL engine: one migration against one database. Every batch is one short REPEATABLE READ
 * transaction of the target database holding both the backup of the rows it changes and the change.
 */
import pg from 'pg';
import { escapeIdentifier } from 'pg';
import type { PostgresMigration } from '../catalog/load.ts';
import type { BatchRequest, BatchResult, InvariantResult, MigrationEngine, PreflightProblem } from '../engine.ts';
import { MigrationError, wrapPostgresError } from '../errors.ts';
import { sqlTypePattern } from '../catalog/sql-guard.ts';
import { claimBackupTable, createBackupTable, dropBackupTable, isCurrentBackup, runContract, runExpand } from './ddl.ts';
import { columnProblems, expressionProblems, keyTypeOf, readTableShape } from './introspect.ts';
import { estimateRows, splitByQuantiles } from './split.ts';
import { restoreRange } from './restore.ts';
import { ExtendedProtocolClient, sessionConnection } from './session.ts';
import { backupSchema, backupTableName, batchStatement, changedColumns, keyConditions, Parameters, pendingPredicate, qualifiedTable } from './sql.ts';
import type { TableModel } from './sql.ts';

/** How the engine connects and how long a batch may wait or run. */
export interface PostgresEngineOptions {
  connectionString: string;
  poolSize?: number;
  /** Per batch: give up waiting for a row lock after this long (the runner retries smaller, later). */
  lockTimeoutMs?: number;
  /** Per batch: cancel a statement that runs longer than this. */
  statementTimeoutMs?: number;
  /** Sessions the server keeps read-only (`default_transaction_read_only`): for plan's preflight and verify's checks. */
  readOnly?: boolean;
}

/** Opens the engine of a PostgreSQL migration (connections are made lazily). */
export function createPostgresEngine(migration: PostgresMigration, options: PostgresEngineOptions): MigrationEngine {
  const pool = new pg.Pool({
    ...sessionConnection(options.connectionString, options.readOnly ?? false),
    Client: ExtendedProtocolClient, max: options.poolSize ?? 4, application_name: `upshift:${migration.ref}`,
  });
  surviveDroppedConnections(pool);
  const timeouts = { lockTimeoutMs: options.lockTimeoutMs ?? 2000, statementTimeoutMs: options.statementTimeoutMs ?? 30_000 };
  const ref = migration.ref;
  let model: (TableModel & { backupReady: boolean }) | undefined;

  async function withClient<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    let lost = false;
    try {
      client = await pool.connect();
      return await work(client);
    } catch (error) {
      const wrapped = wrapPostgresError(error, `${ref}: ${what}`, ref);
      lost = wrapped.code === 'UNAVAILABLE';
      throw wrapped;
    } finally {
      client?.release(lost); // a connection that failed is discarded, never handed to the next batch
    }
  }

  /** The table's model; only batches and restores create a missing backup table (plan and verify stay read-only). */
  async function tableModel(ensureBackup = false): Promise<TableModel> {
    if (model && (model.backupReady || !ensureBackup)) return model;
    model = await withClient('reading the table', (client) => loadTableModel(client, migration, ensureBackup));
    return model;
  }

  async function inBatchTransaction<T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    try {
      await client.query(`SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`,
        [`${timeouts.lockTimeoutMs}ms`, `${timeouts.statementTimeoutMs}ms`]);
      const result = await work();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  return {
    ref,
    preflight: () => withClient('preflight', async (client) => {
      const shape = await readTableShape(client, migration.schema, migration.table);
      const problems: PreflightProblem[] = columnProblems(migration, shape);
      return problems.length > 0 ? problems : expressionProblems(client, migration, shape);
    }),
    expand: async (runId) => {
      await withClient('expand', async (client) => {
        await runExpand(client, migration, timeouts);
        if (runId !== undefined) await claimBackupTable(client, migration, runId);
      });
      model = undefined;
    },
    estimateCount: async () => {
      const current = await tableModel();
      return withClient('estimating rows', (client) => estimateRows(client, current));
    },
    splitShards: async (count) => {
      const current = await tableModel();
      return withClient('splitting shards', (client) => splitByQuantiles(client, current, count));
    },
    maxKey: async (range) => {
      const current = await tableModel();
      const params = new Parameters();
      const conditions = keyConditions(current, range, null, null, params);
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      const result = await withClient('reading the last key', (client) =>
        client.query<{ last: string | null }>(`SELECT ${current.key}::text AS last FROM ${current.table} ${where} ORDER BY ${current.key} DESC LIMIT 1`, params.values));
      return result.rows[0]?.last ?? null;
    },
    runBatch: async (request) => {
      const current = await tableModel(true);
      try {
        return await withClient('running a batch', (client) => runBatchWith(client, migration, current, request, inBatchTransaction));
      } catch (error) {
        // A rejected one-row batch is about exactly one row: name it (the isolation of a failing row ends here).
        if (request.batchSize !== 1 || !(error instanceof MigrationError) || error.code !== 'STORE_REJECTED') throw error;
        const key = await withClient('naming the rejected row', (client) => firstPageKey(client, current, request)).catch(() => null);
        if (key === null) throw error;
        throw new MigrationError(error.code, `${ref}: row ${key}: ${error.message.replace(`${ref}: running a batch: `, '')}`, { cause: error.cause, migration: ref, key });
      }
    },
    restoreShard: async (range, scope, aroundPage) => {
      const current = await tableModel(true);
      return withClient('restoring a shard', (client) =>
        restoreRange(client, migration, current, range, { ...scope, migration: ref }, (work) => inBatchTransaction(client, work), aroundPage));
    },
    countRemaining: async (range) => {
      const current = await tableModel();
      const params = new Parameters();
      const conditions = [...(range ? keyConditions(current, range, null, null, params) : []), pendingPredicate(migration, params)];
      const result = await withClient('counting remaining rows', (client) =>
        client.query<{ remaining: number }>(`SELECT count(*)::float8 AS remaining FROM ${current.table} WHERE ${conditions.join(' AND ')}`, params.values));
      return result.rows[0]?.remaining ?? 0;
    },
    countBackedUp: async (range) => {
      const current = await tableModel(true);
      const params = new Parameters();
      const conditions = keyConditions(current, range, null, null, params);
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      const result = await withClient('counting backed-up rows', (client) =>
        client.query<{ backed_up: number }>(`SELECT count(*)::float8 AS backed_up FROM ${current.backupTable} ${where}`, params.values));
      return result.rows[0]?.backed_up ?? 0;
    },
    checkInvariants: () => withClient('checking invariants', (client) => checkInvariants(client, migration, timeouts.statementTimeoutMs)),
    contract: () => withClient('contract', (client) => runContract(client, migration, timeouts)),
    dropBackups: () => withClient('dropping backups', (client) => dropBackupTable(client, migration)),
    close: () => pool.end(),
  };
}

/**
 * node-postgres emits 'error' on a client whose connection ends (pg_terminate_backend, a failover), and
 * the pool listens only while the client is idle: one checked out between two statements of a batch
 * would kill the process with an unhandled 'error'. Each client gets a listener for its whole life; the
 * error itself reaches the engine again through the statement that fails (UNAVAILABLE, retried).
 */
function surviveDroppedConnections(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  pool.on('error', () => undefined);
}

/** The key of the first row of a batch's page (what a one-row batch works on), or null when the page is empty. */
async function firstPageKey(client: pg.ClientBase, model: TableModel, request: BatchRequest): Promise<string | null> {
  const params = new Parameters();
  const conditions = keyConditions(model, request.range, request.after, request.ceiling, params);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const result = await client.query<{ key: string }>(`SELECT ${model.key}::text AS key FROM ${model.table} ${where} ORDER BY ${model.key} LIMIT 1`, params.values);
  return result.rows[0]?.key ?? null;
}

/** Reads the table and its backup table (created when `ensureBackup`) into the names the statements are built from. */
async function loadTableModel(client: pg.ClientBase, migration: PostgresMigration, ensureBackup: boolean): Promise<TableModel & { backupReady: boolean }> {
  const shape = await readTableShape(client, migration.schema, migration.table);
  if (!shape.exists) throw new MigrationError('PREFLIGHT_FAILED', `${migration.ref}: table ${migration.schema}.${migration.table} does not exist`, { migration: migration.ref });
  const keyType = keyTypeOf(shape, migration.key, `${migration.schema}.${migration.table}`);
  if (typeof keyType !== 'string') throw new MigrationError('PREFLIGHT_FAILED', `${migration.ref}: ${keyType.path}: ${keyType.message}`, { migration: migration.ref });
  const backupTable = `${escapeIdentifier(backupSchema)}.${escapeIdentifier(backupTableName(migration))}`;
  const typeOf = new Map(shape.columns.map((column) => [column.name, column.type]));
  const comparable = new Map<string, boolean>();
  for (const name of changedColumns(migration).map((column) => column.name)) comparable.set(name, await hasEquality(client, typeOf.get(name) ?? 'text'));
  const changed = changedColumns(migration, (name) => comparable.get(name) ?? false);
  let backupReady = (await readTableShape(client, backupSchema, backupTableName(migration))).exists && await isCurrentBackup(client, backupTable, changed);
  if (ensureBackup && !backupReady) {
    await createBackupTable(client, migration);
    backupReady = true;
  }
  return {
    backupReady,
    table: qualifiedTable(migration),
    key: escapeIdentifier(migration.key),
    keyType,
    changed,
    backupTable,
  };
}

/** Whether values of `type` compare with `=` (json, xml, point… do not; they are compared as text). */
async function hasEquality(client: pg.ClientBase, type: string): Promise<boolean> {
  if (!sqlTypePattern.test(type)) return false;
  return client.query(`SELECT NULL::${type} IS NOT DISTINCT FROM NULL::${type}`).then(() => true, () => false);
}

type InTransaction = <T>(client: pg.PoolClient, work: () => Promise<T>) => Promise<T>;

async function runBatchWith(client: pg.PoolClient, migration: PostgresMigration, model: TableModel, request: BatchRequest, inTransaction: InTransaction): Promise<BatchResult> {
  const statement = batchStatement({ migration, model, ...request });
  const started = performance.now();
  const result = await inTransaction(client, () =>
    client.query<{ last_key: string | null; scanned: number; changed: number }>({ text: statement.text, values: statement.values }));
  const durationMs = performance.now() - started;
  const row = result.rows[0];
  const scanned = row?.scanned ?? 0;
  return { lastKey: row?.last_key ?? request.after, scanned, changed: row?.changed ?? 0, durationMs, done: scanned < request.batchSize };
}

/** Runs each invariant query in a read-only transaction; its first column is compared with `expect`. */
async function checkInvariants(client: pg.ClientBase, migration: PostgresMigration, statementTimeoutMs: number): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  for (const invariant of migration.invariants) {
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(`SELECT set_config('statement_timeout', $1, true)`, [`${statementTimeoutMs}ms`]);
      const result = await client.query({ text: invariant.sql, rowMode: 'array' });
      const actual = Number((result.rows[0] as unknown[] | undefined)?.[0] ?? Number.NaN);
      results.push({ name: invariant.name, expected: invariant.expect, actual, ok: actual === invariant.expect });
    } finally {
      await client.query('ROLLBACK');
    }
  }
  return results;
}
