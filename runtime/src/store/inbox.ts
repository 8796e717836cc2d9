/**
 * The inbox deduplicates incoming events on (consumer, source, id) inside the handling transaction and
 * remembers the ids of the events each one produced, so a redelivery replays them instead of running
 * the handler again. Concurrent duplicates serialize on the primary key: the second waits for the
 * first to commit (then replays) or roll back (then runs).
 */
import type { PoolClient, QueryResult } from 'pg';
import type { TxClient } from './pool.ts';

/** The identity of an incoming event. */
export interface InboxKey {
  readonly consumer: string;
  readonly source: string;
  readonly id: string;
}

/** First delivery (run the handler) or a redelivery (replay these output ids). */
export type InboxClaim = { readonly first: true } | { readonly first: false; readonly outputs: readonly string[] };

/**
 * Opens the handling transaction and records the event as received in ONE round trip (a simple-query
 * `BEGIN; INSERT …` with values escaped by the driver); tells whether this delivery is the first.
 */
export async function beginAndClaimInbox(client: PoolClient, key: InboxKey, type: string): Promise<InboxClaim> {
  const values = [key.consumer, key.source, key.id, type].map((value) => client.escapeLiteral(value)).join(', ');
  const results = (await client.query(
    `BEGIN; INSERT INTO upshift.inbox (consumer, source, id, type) VALUES (${values}) ON CONFLICT (consumer, source, id) DO NOTHING`,
  )) as unknown as QueryResult[];
  if (results[1]?.rowCount === 1) return { first: true };
  return readDuplicate(client, key);
}

/**
 * Records the event as received and handled with no outputs, in ONE autocommitted statement: for a
 * handler that decided nothing, where a transaction around the claim alone would only add round trips.
 * False when the event was claimed before (or is being claimed now: the insert waits for that
 * transaction, then conflicts); the caller then takes the transactional path, which replays.
 */
export async function claimInboxAlone(db: Pick<PoolClient, 'query'>, key: InboxKey, type: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO upshift.inbox (consumer, source, id, type) VALUES ($1, $2, $3, $4) ON CONFLICT (consumer, source, id) DO NOTHING',
    [key.consumer, key.source, key.id, type],
  );
  return rowCount === 1;
}

/** Whether this event was handled before (a cheap look before any work; the claim itself decides). */
export async function seenBefore(db: Pick<PoolClient, 'query'>, key: InboxKey): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM upshift.inbox WHERE consumer = $1 AND source = $2 AND id = $3', [key.consumer, key.source, key.id]);
  return (rowCount ?? 0) > 0;
}

async function readDuplicate(tx: TxClient, key: InboxKey): Promise<InboxClaim> {
  const { rows } = await tx.query<{ outputs: string[] }>(
    `UPDATE upshift.inbox SET deliveries = deliveries + 1 WHERE consumer = $1 AND source = $2 AND id = $3
     RETURNING outputs`,
    [key.consumer, key.source, key.id],
  );
  return { first: false, outputs: rows[0]?.outputs ?? [] };
}
