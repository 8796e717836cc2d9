/**
 * Where the migration engines keep a migration's backups, and what is there: PostgreSQL's
 * `upshift_backup.<table>__<name>__v<version>` (the owning run in the table's comment, `upshift run <id>`)
 * and MongoDB's `upshift_backup__<collection>__<name>__v<version>` in the migration's database (the
 * owning run in `upshift_backup_owners`). Reads and drops only those names, derived from the catalog.
 */
import pg from 'pg';
import { MongoClient } from 'mongodb';
import {
  backupCollectionName, backupOwnersCollection, backupSchema, backupTableName, connectionUrlFor, type Migration, type MongoMigration, type PostgresMigration,
} from '@upshift/migrations';

/** One migration's backup as found in its store. */
export interface BackupFound {
  readonly migration: string;
  readonly store: 'postgres' | 'mongodb';
  /** `schema.table` or `database.collection`. */
  readonly name: string;
  readonly rows: number;
  readonly bytes: number | undefined;
  /** The run that made (claimed) it, from the table comment / owners collection. */
  readonly runId: string | undefined;
}

/** A store's backup of a migration, or nothing when there is none; `drop` removes it. */
export interface BackupStore {
  find(): Promise<BackupFound | undefined>;
  drop(): Promise<void>;
  close(): Promise<void>;
}

function postgresStore(migration: PostgresMigration, url: string): BackupStore {
  const client = new pg.Client({ connectionString: url, application_name: 'upshift-cli', connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  const connected = client.connect();
  const table = backupTableName(migration);
  const qualified = `${pg.escapeIdentifier(backupSchema)}.${pg.escapeIdentifier(table)}`;
  return {
    async find() {
      await connected;
      const { rows } = await client.query<{ exists: boolean; owner: string | null; bytes: string | null }>(
        `SELECT to_regclass($1) IS NOT NULL AS exists, obj_description(to_regclass($1), 'pg_class') AS owner, pg_total_relation_size(to_regclass($1))::text AS bytes`, [qualified]);
      const row = rows[0];
      if (!row?.exists) return undefined;
      const counted = await client.query<{ rows: string }>(`SELECT count(*)::text AS rows FROM ${qualified}`);
      const runId = /^upshift run (.+)$/.exec(row.owner ?? '')?.[1];
      return { migration: migration.ref, store: 'postgres', name: `${backupSchema}.${table}`, rows: Number(counted.rows[0]?.rows ?? 0), bytes: row.bytes === null ? undefined : Number(row.bytes), runId };
    },
    async drop() {
      await connected;
      await client.query(`DROP TABLE IF EXISTS ${qualified}`);
    },
    async close() {
      await connected.catch(() => undefined);
      await client.end();
    },
  };
}

function mongoStore(migration: MongoMigration, url: string): BackupStore {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000, appName: 'upshift-cli' });
  const db = client.db(migration.database);
  const name = backupCollectionName(migration);
  return {
    async find() {
      const exists = (await db.listCollections({ name }, { nameOnly: true }).toArray()).length > 0;
      if (!exists) return undefined;
      const backup = db.collection(name);
      const rows = await backup.countDocuments({});
      const stats = await db.command({ collStats: name }).catch(() => undefined) as { size?: number; totalSize?: number } | undefined;
      const owner = await db.collection<{ _id: string; runId?: string }>(backupOwnersCollection).findOne({ _id: name });
      return { migration: migration.ref, store: 'mongodb', name: `${migration.database}.${name}`, rows, bytes: stats?.totalSize ?? stats?.size, runId: owner?.runId };
    },
    async drop() {
      await db.collection(name).drop(); // already gone is not an error (the driver answers false since 7.0)
      await db.collection<{ _id: string }>(backupOwnersCollection).deleteOne({ _id: name });
    },
    close: () => client.close(),
  };
}

/** The backup store of `migration`, connected through the variable its `connection` names. */
export function backupStoreOf(migration: Migration, env: Readonly<Record<string, string | undefined>>): BackupStore {
  const url = connectionUrlFor(migration, env);
  return migration.store === 'postgres' ? postgresStore(migration, url) : mongoStore(migration, url);
}
