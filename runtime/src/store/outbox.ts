/**
 * The outbox: events a handler produces are inserted in the handling transaction and published by the
 * relay only after commit. A NOTIFY in the same transaction wakes relays when (and only if) it commits.
 */
import type { InboxKey } from './inbox.ts';
import type { Queryable } from './leases.ts';
import type { TxClient } from './pool.ts';

/** The channel relays LISTEN on. */
export const outboxChannel = 'upshift_outbox';

/** An event ready for the outbox: its structured-mode JSON plus where it goes. */
export interface OutboxEntry {
  readonly source: string;
  readonly id: string;
  readonly type: string;
  readonly topic: string;
  readonly partitionKey: string | undefined;
  /** The CloudEvent in structured JSON form (attributes + data). */
  readonly event: Readonly<Record<string, unknown>>;
}

/**
 * In one statement: inserts the produced events (idempotent on (source, id)), records their ids on the
 * input's inbox row (for replay), and NOTIFYs the relays, which PostgreSQL delivers only at commit.
 */
export async function storeOutputs(tx: TxClient, input: InboxKey, entries: readonly OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `WITH produced AS (
       INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
       ON CONFLICT (source, id) DO NOTHING
       RETURNING 1
     ), remembered AS (
       UPDATE upshift.inbox SET outputs = $2::text[] WHERE consumer = $7 AND source = $8 AND id = $9
       RETURNING 1
     )
     SELECT pg_notify($10, '') FROM (SELECT count(*) FROM produced) p, (SELECT count(*) FROM remembered) r`,
    [
      entries.map((entry) => entry.source),
      entries.map((entry) => entry.id),
      entries.map((entry) => entry.type),
      entries.map((entry) => entry.topic),
      entries.map((entry) => entry.partitionKey ?? null),
      entries.map((entry) => JSON.stringify(entry.event)),
      input.consumer, input.source, input.id, outboxChannel,
    ],
  );
}

/** Marks already-produced events for publishing again (a redelivered input replays its outputs). */
export async function replayOutbox(tx: TxClient, source: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tx.query(
    `UPDATE upshift.outbox SET sent_at = NULL WHERE source = $1 AND id = ANY($2::text[]) AND sent_at IS NOT NULL`,
    [source, ids],
  );
  if ((result.rowCount ?? 0) > 0) await tx.query(`SELECT pg_notify($1, '')`, [outboxChannel]);
  return result.rowCount ?? 0;
}

/**
 * Puts an event back in the outbox to be published again as it is (same source and id, so consumers
 * that handled it replay it): a dead-lettered event redriven. Inserted when it never was in this outbox
 * (e.g. the CLI produced it).
 */
export async function redriveEntry(tx: TxClient, entry: OutboxEntry): Promise<void> {
  await tx.query(
    `INSERT INTO upshift.outbox AS o (source, id, type, topic, partition_key, event) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (source, id) DO UPDATE SET sent_at = NULL, topic = EXCLUDED.topic`,
    [entry.source, entry.id, entry.type, entry.topic, entry.partitionKey ?? null, JSON.stringify(entry.event)],
  );
  await tx.query(`SELECT pg_notify($1, '')`, [outboxChannel]);
}

/** A row claimed by the relay for publishing. */
export interface PendingOutboxRow {
  readonly seq: string;
  readonly topic: string;
  readonly partitionKey: string | null;
  readonly event: Record<string, unknown>;
}

/** Locks up to `limit` unsent rows not set aside (SKIP LOCKED: relays in other processes take other rows). */
export async function claimPending(tx: TxClient, limit: number): Promise<PendingOutboxRow[]> {
  const { rows } = await tx.query<{ seq: string; topic: string; partition_key: string | null; event: Record<string, unknown> }>(
    `SELECT seq, topic, partition_key, event FROM upshift.outbox WHERE sent_at IS NULL AND failed_at IS NULL
      ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((row) => ({ seq: row.seq, topic: row.topic, partitionKey: row.partition_key, event: row.event }));
}

/** Marks published rows sent. */
export async function markSent(tx: TxClient, seqs: readonly string[]): Promise<void> {
  await tx.query(
    `UPDATE upshift.outbox SET sent_at = now(), publish_count = publish_count + 1 WHERE seq = ANY($1::bigint[])`,
    [seqs],
  );
}

/** A row the relay will never publish, and why (e.g. "12 MB: larger than the broker accepts"). */
export interface SetAsideRow {
  readonly seq: string;
  readonly reason: string;
}

/** Sets rows aside with their reasons: the relay no longer claims them, and they stay for whoever looks. */
export async function setAside(tx: TxClient, rows: readonly SetAsideRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `UPDATE upshift.outbox o SET failed_at = now(), failure = r.reason
       FROM unnest($1::bigint[], $2::text[]) AS r(seq, reason) WHERE o.seq = r.seq`,
    [rows.map((row) => row.seq), rows.map((row) => row.reason)],
  );
}

/** Rows set aside, newest first (at most `limit`): what `upshift status` or an operator looks at. */
export async function setAsideRows(db: Queryable, limit = 100): Promise<Array<SetAsideRow & { id: string; type: string; topic: string }>> {
  const { rows } = await db.query<{ seq: string; id: string; type: string; topic: string; failure: string }>(
    `SELECT seq, id, type, topic, failure FROM upshift.outbox WHERE failed_at IS NOT NULL ORDER BY seq DESC LIMIT $1`, [limit]);
  return rows.map((row) => ({ seq: row.seq, id: row.id, type: row.type, topic: row.topic, reason: row.failure }));
}
