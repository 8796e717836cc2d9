/**
 * Applies the control-store schema at start: advisory-locked so many processes starting together apply
 * each version exactly once; checksums refuse a database whose history was edited.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { UpshiftError } from '../errors.ts';
import { wrapError } from '../wrap-error.ts';
import { schemaVersions } from './schema.ts';
import type { SchemaVersion } from './schema.ts';

/** Advisory lock key for schema changes ('upshift' as a number; any fixed bigint works). */
const schemaLockKey = 0x7570736869667400n;

function checksum(version: SchemaVersion): string {
  return createHash('sha256').update(version.sql).digest('hex');
}

/** Brings schema `upshift` to the newest version; returns the versions it applied. */
export async function migrateStore(pool: Pool, versions: readonly SchemaVersion[] = schemaVersions): Promise<number[]> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw wrapError(err, { operation: 'migrate' });
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [schemaLockKey.toString()]);
    return await applyPending(client, versions);
  } catch (err) {
    throw wrapError(err, { operation: 'migrate' });
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [schemaLockKey.toString()]).catch(() => undefined);
    client.release();
  }
}

async function applyPending(client: PoolClient, versions: readonly SchemaVersion[]): Promise<number[]> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS upshift`);
  await client.query(`CREATE TABLE IF NOT EXISTS upshift.schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await client.query<{ version: number; checksum: string }>(
    'SELECT version, checksum FROM upshift.schema_migrations ORDER BY version',
  );
  const applied = new Map(rows.map((row) => [row.version, row.checksum]));
  const done: number[] = [];
  for (const version of versions) {
    const known = applied.get(version.version);
    if (known !== undefined) {
      if (known !== checksum(version)) {
        throw new UpshiftError('INTERNAL', `control-store schema version ${version.version} was edited after it was applied`);
      }
      continue;
    }
    await applyOne(client, version);
    done.push(version.version);
  }
  return done;
}

async function applyOne(client: PoolClient, version: SchemaVersion): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(version.sql);
    await client.query('INSERT INTO upshift.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      version.version, version.name, checksum(version),
    ]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
