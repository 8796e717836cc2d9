/**
 * What the control store (DATABASE_URL, schema `upshift`) knows about a run, for `upshift watch`
 * started late or on a finished run: the run row, every event the functions produced for it (the
 * outbox keeps them, lifecycle and work events alike) and the live shard checkpoints.
 */
import pg from 'pg';
import { decode, type AnyUpshiftEvent } from '@upshift/events';
import { hasControlStore as hasRunTables, viewRecentRuns, viewRun, viewRunEvents, viewShardRows, viewSteps, type RunView, type StepView } from '@upshift/runtime';

/** A runs row. */
export type RunRow = RunView;

/** A shard's live state from its step row. */
export interface ShardCheckpoint {
  readonly migration: string;
  readonly index: string;
  readonly rows: number;
  readonly estimatedRows: number;
  readonly status: string;
}

/** Something that runs queries: a pg Client or Pool. */
export type Queryable = Pick<pg.Client, 'query'>;

/**
 * Opens a client to the control store; the caller ends it. A connection that drops while the CLI waits
 * between two polls emits 'error' on the client: it is swallowed here (an unhandled 'error' event would
 * kill the CLI with a stack trace) and the next query reports it as an ordinary rejected promise.
 */
export async function connectStore(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'upshift-cli', connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * A pool of one connection to the control store for a long follow: a connection that drops (a restart,
 * a terminated backend) is replaced on the next query instead of ending the watch.
 */
export function storePool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, application_name: 'upshift-cli', connectionTimeoutMillis: 5000, max: 1 });
  pool.on('error', () => undefined);
  return pool;
}

/** Whether the control-store schema exists in this database. */
export async function hasControlStore(db: Queryable): Promise<boolean> {
  return hasRunTables(db);
}

/** The run row, or undefined when the control store has not seen the run (yet). */
export async function readRun(db: Queryable, runId: string): Promise<RunRow | undefined> {
  return viewRun(db, runId);
}

/** The most recent runs, newest first. */
export async function recentRuns(db: Queryable, limit: number): Promise<RunRow[]> {
  return viewRecentRuns(db, limit);
}

/** Events the functions produced for the run after outbox position `afterSeq`, in order, decoded (rows that do not decode are skipped). */
export async function readRunEvents(db: Queryable, runId: string, afterSeq = 0, options: { summary?: boolean } = {}): Promise<{ events: AnyUpshiftEvent[]; lastSeq: number }> {
  const rows = await viewRunEvents(db, runId, afterSeq, options);
  const events: AnyUpshiftEvent[] = [];
  for (const row of rows) {
    try {
      events.push(decode(row.event));
    } catch {
      // an event of another contract version: not shown
    }
  }
  return { events, lastSeq: rows.at(-1)?.seq ?? afterSeq };
}

const shardKey = /([a-z0-9]([-a-z0-9]*[a-z0-9])?@[0-9]+(?:\.[0-9]+)*)\D+([0-9]+)$/;

/** Splits a shard step key (`<runId>:<ref>:<index>`, `<ref>:<index>` or `<ref>/<index>`) into ref and index. */
export function parseShardKey(key: string): { migration: string; index: string } | undefined {
  const match = shardKey.exec(key);
  return match?.[1] && match[3] ? { migration: match[1], index: match[3] } : undefined;
}

/**
 * Rows changed so far by a shard and the rows it is expected to hold, from its step checkpoint:
 * migrate-shard's shard state (`{ checkpoint: { changed }, estimatedRows }`) or a bare runner checkpoint.
 */
export function rowsOfCheckpoint(stored: unknown): { rows: number; estimatedRows: number } {
  if (stored === null || typeof stored !== 'object') return { rows: 0, estimatedRows: 0 };
  const state = stored as { checkpoint?: unknown; estimatedRows?: unknown; changed?: unknown; rowsMigrated?: unknown };
  const inner = (state.checkpoint !== null && typeof state.checkpoint === 'object' ? state.checkpoint : state) as { changed?: unknown; rowsMigrated?: unknown };
  const rows = typeof inner.changed === 'number' ? inner.changed : typeof inner.rowsMigrated === 'number' ? inner.rowsMigrated : 0;
  const estimated = typeof state.estimatedRows === 'number' ? state.estimatedRows : 0;
  return { rows: Number.isFinite(rows) ? rows : 0, estimatedRows: Number.isFinite(estimated) ? estimated : 0 };
}

/** The shard steps of a run with their live row counts. */
export async function readShardCheckpoints(db: Queryable, runId: string): Promise<ShardCheckpoint[]> {
  return (await viewShardRows(db, runId)).flatMap((row) => {
    const parsed = parseShardKey(row.key);
    return parsed ? [{ ...parsed, ...rowsOfCheckpoint(row.checkpoint), status: row.status }] : [];
  });
}

/** Every step of a run (for `upshift status <run>`), in a stable order; or every step but `exceptKinds`. */
export async function readSteps(db: Queryable, runId: string, options: { exceptKinds?: readonly string[] } = {}): Promise<StepView[]> {
  return viewSteps(db, runId, undefined, options);
}
