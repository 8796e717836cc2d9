/**
 * The outbox: events a handler produces are inserted in the handling transaction and published by the
 * relay only after commit. A NOTIFY in the same transaction wakes relays when (and only if) it commits:
 * the writer's own relay when the writer names it (the `relay` argument: the other processes' relays
 * leave those rows to it, so a commit does not wake every instance), every relay when it names none.
 */
import type { PoolClient, QueryResult } from 'pg';
import type { InboxKey } from './inbox.ts';
import type { Queryable } from './leases.ts';
import type { TxClient } from './pool.ts';

/** The channel relays LISTEN on. */
export const outboxChannel = 'upshift_outbox';

/**
 * The NOTIFY payload that wakes every relay (a writer with no relay of its own: the CLI, a redrive);
 * any other payload is the id of the one relay it wakes (`OutboxRelay.id`).
 */
export const everyRelay = '';

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

/** What escapes values for simple-query text: a connected pg client (its escapeLiteral). */
export type Escaper = Pick<PoolClient, 'escapeLiteral'>;

/** A value as an SQL literal: escaped by the driver, or NULL. */
function literal(escape: Escaper, value: string | null | undefined): string {
  return value === null || value === undefined ? 'NULL' : escape.escapeLiteral(value);
}

/** How a statement carries its values: inline as escaped literals, or as `$n` parameters. */
interface ValueRenderer {
  value(value: string): string;
  array(values: ReadonlyArray<string | null>, type: 'text' | 'jsonb'): string;
}

function inlineValues(escape: Escaper): ValueRenderer {
  return {
    value: (value) => literal(escape, value),
    array: (values, type) => `ARRAY[${values.map((value) => literal(escape, value)).join(', ')}]::${type}[]`,
  };
}

function parameterValues(params: unknown[]): ValueRenderer {
  const next = (value: unknown, cast: string): string => `$${params.push(value)}${cast}`;
  return { value: (value) => next(value, ''), array: (values, type) => next(values, `::${type}[]`) };
}

/**
 * The one statement that stores a decision's outputs: inserts the produced events (idempotent on
 * (source, id)), records their ids on the input's inbox row (for replay), and NOTIFYs `relay` (one
 * relay's id, or `everyRelay`), which PostgreSQL delivers only at commit.
 */
function outputsSql(values: ValueRenderer, input: InboxKey, entries: readonly OutboxEntry[], events: readonly string[], relay: string): string {
  return `WITH produced AS (
       INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event)
       SELECT * FROM unnest(${values.array(entries.map((entry) => entry.source), 'text')}, ${values.array(entries.map((entry) => entry.id), 'text')},
         ${values.array(entries.map((entry) => entry.type), 'text')}, ${values.array(entries.map((entry) => entry.topic), 'text')},
         ${values.array(entries.map((entry) => entry.partitionKey ?? null), 'text')}, ${values.array(events, 'jsonb')})
       ON CONFLICT (source, id) DO NOTHING
       RETURNING 1
     ), remembered AS (
       UPDATE upshift.inbox SET outputs = ${values.array(entries.map((entry) => entry.id), 'text')}
        WHERE consumer = ${values.value(input.consumer)} AND source = ${values.value(input.source)} AND id = ${values.value(input.id)}
       RETURNING 1
     )
     SELECT pg_notify(${values.value(outboxChannel)}, ${values.value(relay)}) FROM (SELECT count(*) FROM produced) p, (SELECT count(*) FROM remembered) r`;
}

/** Stores outputs now, as a statement of its own with parameters (see outputsSql); `relay` is the relay to wake. */
export async function storeOutputs(tx: TxClient, input: InboxKey, entries: readonly OutboxEntry[], relay = everyRelay): Promise<void> {
  if (entries.length === 0) return;
  const params: unknown[] = [];
  await tx.query(outputsSql(parameterValues(params), input, entries, entries.map((entry) => JSON.stringify(entry.event)), relay), params);
}

/**
 * Outputs up to this many bytes of JSON travel with the COMMIT as escaped text; larger ones (a fan-out
 * of thousands) are sent as parameters on their own: the driver's escapeLiteral takes about 0.1 µs a
 * character, which would hold the event loop for a quarter of a second on 2 MB.
 */
export const inlineOutputsMaxChars = 16_384;

/**
 * Stores a decision's outputs with as few round trips as their size allows: small ones are returned
 * as the statement to send with the COMMIT (simple-query text, every value escaped by the driver; see
 * pool.ts `withTransactionFinishing`), larger ones are stored now. Undefined when nothing is left to send.
 */
export async function outputsBeforeCommit(tx: TxClient, input: InboxKey, entries: readonly OutboxEntry[], relay = everyRelay): Promise<string | undefined> {
  if (entries.length === 0) return undefined;
  const events = entries.map((entry) => JSON.stringify(entry.event));
  if (events.reduce((chars, event) => chars + event.length, 0) <= inlineOutputsMaxChars) return outputsSql(inlineValues(tx), input, entries, events, relay);
  await storeOutputs(tx, input, entries, relay);
  return undefined;
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

/**
 * Opens the relay's transaction and locks up to `limit` unsent rows not set aside, in ONE round trip
 * (simple-query `BEGIN; SELECT … FOR UPDATE SKIP LOCKED`: relays in other processes take other rows).
 */
export async function beginAndClaimPending(client: PoolClient, limit: number): Promise<PendingOutboxRow[]> {
  type Row = { seq: string; topic: string; partition_key: string | null; event: Record<string, unknown> };
  const results = (await client.query(
    `BEGIN; SELECT seq, topic, partition_key, event FROM upshift.outbox WHERE sent_at IS NULL AND failed_at IS NULL
      ORDER BY seq LIMIT ${Math.max(0, Math.trunc(limit))} FOR UPDATE SKIP LOCKED`,
  )) as unknown as [QueryResult, QueryResult<Row>];
  return results[1].rows.map((row) => ({ seq: row.seq, topic: row.topic, partitionKey: row.partition_key, event: row.event }));
}

/** The statement that marks published rows sent (to travel with the relay's COMMIT); undefined for none. */
export function markSentStatement(escape: Escaper, seqs: readonly string[]): string | undefined {
  if (seqs.length === 0) return undefined;
  return `UPDATE upshift.outbox SET sent_at = now(), publish_count = publish_count + 1
           WHERE seq = ANY(ARRAY[${seqs.map((seq) => literal(escape, seq)).join(', ')}]::bigint[])`;
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
