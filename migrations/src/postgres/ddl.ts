/**
 * The PostgreSQL DDL phases: expand (additive, idempotent, indexes built concurrently), the backup
 * table, contract (destructive, on request), dropping backups. Each statement runs with a lock timeout.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';
import type pg from 'pg';
import type { PostgresMigration } from '../catalog/load.ts';
import { restoreTablesDdl } from './restore-sql.ts';
import { backupSchema, backupTableName, changedColumns, qualifiedTable } from './sql.ts';
import type { ChangedColumn } from './sql.ts';

/** Timeouts of DDL statements: wait briefly for locks (and retry later) rather than queue behind traffic. */
export interface DdlTimeouts {
  lockTimeoutMs: number;
}

async function runWithLockTimeout(client: pg.ClientBase, sql: string, timeouts: DdlTimeouts): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${timeouts.lockTimeoutMs}ms`]);
    await client.query(sql);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Adds the new nullable columns, builds the indexes concurrently (rebuilding invalid leftovers), creates the backup table. */
export async function runExpand(client: pg.ClientBase, migration: PostgresMigration, timeouts: DdlTimeouts): Promise<void> {
  const table = qualifiedTable(migration);
  for (const column of migration.expand.addColumns) {
    await runWithLockTimeout(client, `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${escapeIdentifier(column.name)} ${column.type}`, timeouts);
  }
  for (const index of migration.expand.createIndexes) {
    const invalid = await client.query(
      `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisvalid`, [migration.schema, index.name]);
    const qualifiedIndex = `${escapeIdentifier(migration.schema)}.${escapeIdentifier(index.name)}`;
    if ((invalid.rowCount ?? 0) > 0) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualifiedIndex}`);
    const columns = index.columns.map((column) => escapeIdentifier(column)).join(', ');
    await client.query(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY IF NOT EXISTS ${escapeIdentifier(index.name)} ON ${table} (${columns})`);
  }
  await createBackupTable(client, migration);
}

/**
 * The backup table: the key, the pre-image of every column the migration changes and, per column,
 * `<column>__written`, what the migration wrote to it (types as in the table after expand); plus the
 * shared tables of restore findings and progress. A backup table of an older upshift (a whole-row copy)
 * cannot be restored from by the guarded restore and is replaced.
 */
export async function createBackupTable(client: pg.ClientBase, migration: PostgresMigration): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(backupSchema)}`).catch(ignoreDuplicate);
  for (const statement of restoreTablesDdl) await client.query(statement).catch(ignoreDuplicate);
  const backup = `${escapeIdentifier(backupSchema)}.${escapeIdentifier(backupTableName(migration))}`;
  const changed = changedColumns(migration);
  if (!(await isCurrentBackup(client, backup, changed))) await client.query(`DROP TABLE IF EXISTS ${backup}`);
  const columns = [escapeIdentifier(migration.key), ...changed.map((column) => column.quoted), ...changed.map((column) => `${column.quoted} AS ${column.written}`)].join(', ');
  await client.query('BEGIN');
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS ${backup} AS SELECT ${columns} FROM ${qualifiedTable(migration)} WITH NO DATA`);
    const { rows: keys } = await client.query(`SELECT 1 FROM pg_index WHERE indrelid = $1::regclass AND indisprimary`, [backup]);
    if (keys.length === 0) await client.query(`ALTER TABLE ${backup} ADD PRIMARY KEY (${escapeIdentifier(migration.key)})`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    ignoreDuplicate(error);
  }
}

/** Whether the backup table is missing or has this upshift's shape (every `<column>__written` column). */
export async function isCurrentBackup(client: pg.ClientBase, backup: string, changed: ChangedColumn[]): Promise<boolean> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT '"' || replace(attname, '"', '""') || '"' AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, [backup]);
  const names = new Set(rows.map((row) => row.name));
  return names.size === 0 || changed.every((column) => names.has(column.written));
}

/**
 * Makes the backup table `runId`'s: its owner is kept in the table's comment (`upshift run <id>`); a
 * table owned by another run (or by none) is emptied first. One transaction, so two expands of different
 * runs cannot interleave (plan's run-target claims already allow only one active run per migration).
 */
export async function claimBackupTable(client: pg.ClientBase, migration: PostgresMigration, runId: string): Promise<void> {
  const backup = `${escapeIdentifier(backupSchema)}.${escapeIdentifier(backupTableName(migration))}`;
  const owner = `upshift run ${runId}`;
  await client.query('BEGIN');
  try {
    // Serializes two claims of the same table; batches (ROW EXCLUSIVE) wait for the moment it takes.
    await client.query(`LOCK TABLE ${backup} IN SHARE ROW EXCLUSIVE MODE`);
    const { rows } = await client.query<{ owner: string | null }>(`SELECT obj_description($1::regclass, 'pg_class') AS owner`, [backup]);
    if (rows[0]?.owner !== owner) {
      await client.query(`TRUNCATE ${backup}`);
      await client.query(`COMMENT ON TABLE ${backup} IS ${escapeLiteral(owner)}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Two workers creating the same schema/table at once: the loser's unique violation means it exists. */
function ignoreDuplicate(error: unknown): void {
  const code = (error as { code?: string }).code;
  if (code !== '23505' && code !== '42P06' && code !== '42P07') throw error;
}

/** The destructive phase: drop the old columns, make new ones NOT NULL. */
export async function runContract(client: pg.ClientBase, migration: PostgresMigration, timeouts: DdlTimeouts): Promise<void> {
  const table = qualifiedTable(migration);
  for (const column of migration.contract.setNotNull) {
    await runWithLockTimeout(client, `ALTER TABLE ${table} ALTER COLUMN ${escapeIdentifier(column)} SET NOT NULL`, timeouts);
  }
  for (const column of migration.contract.dropColumns) {
    await runWithLockTimeout(client, `ALTER TABLE ${table} DROP COLUMN IF EXISTS ${escapeIdentifier(column)}`, timeouts);
  }
}

/** Drops the migration's backup table (only when the run says so). */
export async function dropBackupTable(client: pg.ClientBase, migration: PostgresMigration): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${escapeIdentifier(backupSchema)}.${escapeIdentifier(backupTableName(migration))}`);
}
