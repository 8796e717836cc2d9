/** Opening the right engine for a migration, with its URL taken from the environment variable the catalog names. */
import type { Migration } from './catalog/load.ts';
import type { MigrationEngine } from './engine.ts';
import { MigrationError } from './errors.ts';
import { createMongoEngine } from './mongodb/engine.ts';
import { createPostgresEngine } from './postgres/engine.ts';

/** The connection URL of a migration from `env[migration.connection]`; the error names the variable, never a URL. */
export function connectionUrlFor(migration: Migration, env: Readonly<Record<string, string | undefined>>): string {
  const url = env[migration.connection];
  if (!url) {
    throw new MigrationError('CONNECTION_MISSING', `${migration.ref}: connection variable ${migration.connection} is not set (${migration.file}: connection)`, { migration: migration.ref });
  }
  return url;
}

/** Tuning shared by both engines. */
export interface OpenEngineOptions {
  poolSize?: number;
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
  /**
   * For callers that only read (plan's preflight, verify's checks, `catalog lint --connect`): PostgreSQL
   * sessions are read-only at the server (`default_transaction_read_only`), so any write fails with 25006.
   * MongoDB has no such session setting; its engine's read calls issue no writes.
   */
  readOnly?: boolean;
}

/** The engine of `migration`, connected through the URL in `env` (connections open lazily). */
export function openEngine(migration: Migration, env: Readonly<Record<string, string | undefined>>, options: OpenEngineOptions = {}): MigrationEngine {
  const connectionString = connectionUrlFor(migration, env);
  const { readOnly, ...tuning } = options;
  return migration.store === 'postgres'
    ? createPostgresEngine(migration, { connectionString, ...tuning, readOnly: readOnly ?? false })
    : createMongoEngine(migration, { connectionString, ...tuning });
}
