/**
 * What a store says about its own load, read between (and during) a migration's batches so migrate-shard
 * can throttle on it: the store-independent shape both readers return, and how to open the right one.
 */
import type { Migration } from '../catalog/load.ts';
import { connectionUrlFor } from '../open-engine.ts';
import { createMongoSignalReader } from './mongodb.ts';
import { createPostgresSignalReader } from './postgres.ts';

/** One look at the store; a signal is undefined when the store does not tell it. */
export interface StoreSignalReading {
  /** Sessions waiting for a lock on the migrated table or on one an upshift session holds (MongoDB: queued operations). */
  blockedSessions?: number;
  /** Of `blockedSessions`, those waiting behind an upshift session (a batch of any shard). */
  blockedByUpshift?: number;
  /** Active sessions of the database other than upshift's (MongoDB: active clients). */
  activeSessions?: number;
  /** The largest standby replay lag, seconds (undefined: no standby, or not visible). */
  replicationLagSeconds?: number;
  /** Checkpoints requested by WAL volume since the previous look. */
  forcedCheckpoints?: number;
  /** The operator's throttle query's number; Infinity when it failed or timed out. */
  operatorValue?: number;
  /** Signals the store cannot give at all (said once in the shard's progress: "degraded, not silent"). */
  unavailable: string[];
}

/** When the policy asks for the operator's throttle query (`strategy.throttle.query`): its statement timeout. The SQL is the catalog migration's `throttleQuery`. */
export interface OperatorThrottleQuery {
  timeoutMs: number;
}

/** Reads a store's signals; one connection of its own, read-only where the store allows it. */
export interface StoreSignalReader {
  /** A stable name of the store (host, port, database; never credentials): the key of its shared budget. */
  readonly storeKey: string;
  /** The table or collection, for reasons. */
  readonly target: string;
  read(query?: OperatorThrottleQuery): Promise<StoreSignalReading>;
  close(): Promise<void>;
}

/** The signal reader of the store `migration` works on (connects lazily). */
export function openSignalReader(migration: Migration, env: Readonly<Record<string, string | undefined>>): StoreSignalReader {
  const url = connectionUrlFor(migration, env);
  return migration.store === 'postgres' ? createPostgresSignalReader(migration, url) : createMongoSignalReader(migration, url);
}

/** host:port/database of a connection URL, credentials dropped (the store's identity for its budget). */
export function storeKeyOf(connectionString: string, database?: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.protocol.replace(/:$/, '')}://${url.host}/${database ?? url.pathname.replace(/^\//, '')}`;
  } catch {
    return `unparsed:${database ?? ''}`;
  }
}
