/**
 * What the control-store gauges read at scrape time (host/control-store-gauges.ts): how far the outbox
 * lags behind and how long the quietest active run has gone without a change. Each is one short query.
 */
import type { Queryable } from './leases.ts';
import { stalledRuns } from './run-state/stalls.ts';

/** The outbox's backlog: unpublished records and the age of the oldest (0 when none). */
export interface OutboxLag {
  readonly pending: number;
  readonly oldestAgeSeconds: number;
}

/** Reads the outbox backlog (served by the partial index on unpublished rows). */
export async function outboxLag(db: Queryable): Promise<OutboxLag> {
  const { rows } = await db.query<{ pending: string; age: number | null }>(
    `SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at))::float8 AS age
       FROM upshift.outbox WHERE sent_at IS NULL`,
  );
  return { pending: Number(rows[0]?.pending ?? 0), oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) };
}

/** Seconds since the active run that changed longest ago last changed (the watchdog's measure); 0 when none is active. */
export async function longestRunIdleSeconds(db: Queryable, now = Date.now()): Promise<number> {
  const [quietest] = await stalledRuns(db, 0, { limit: 1 });
  return quietest ? Math.max(0, (now - quietest.since.getTime()) / 1000) : 0;
}
