/**
 * The per-store throttle budget every shard of every run shares (`upshift.store_budgets`, schema version
 * 6): one atomic upsert per batch reserves the batch's rows on the store's rows/s clock (GCRA: n rows
 * reserve n/rate seconds from the clock or now, whichever is later) and records a hold any shard may set
 * for every shard of that store, with its reason.
 */
import type { Queryable } from './leases.ts';

/**
 * $1 store, $2 rows of the batch about to run, $3 rows/s (null: no rate), $4 hold ms (0: none), $5 why.
 * On the statement's own clock (`clock_timestamp()`, not the transaction's start): a charge that waited
 * for another shard's row lock must not read that shard's fresh values as lying in its future.
 */
const chargeStatement = `INSERT INTO upshift.store_budgets AS b (store, next_at, held_until, held_why)
  VALUES ($1, clock_timestamp() + CASE WHEN $3::float8 IS NULL THEN interval '0' ELSE ($2::float8 / $3::float8) * interval '1 second' END,
          clock_timestamp() + $4::float8 * interval '1 millisecond', $5)
  ON CONFLICT (store) DO UPDATE SET
    next_at = CASE WHEN $3::float8 IS NULL THEN b.next_at ELSE greatest(b.next_at, clock_timestamp()) + ($2::float8 / $3::float8) * interval '1 second' END,
    held_until = CASE WHEN $4::float8 > 0 THEN greatest(b.held_until, clock_timestamp() + $4::float8 * interval '1 millisecond') ELSE b.held_until END,
    held_why = CASE WHEN $4::float8 > 0 THEN $5 ELSE b.held_why END,
    updated_at = clock_timestamp()
  RETURNING (extract(epoch FROM next_at) * 1000)::float8 AS next_at, (extract(epoch FROM held_until) * 1000)::float8 AS held_until,
            held_why, (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now`;

/** A store's budget after a charge (epoch ms on the control store's clock): the end of the reservation, the hold and why, and now. */
export interface StoreBudgetRow {
  readonly nextAt: number;
  readonly heldUntil: number;
  readonly heldWhy: string;
  readonly now: number;
}

/** Charges `rows` at `rowsPerSecond` (undefined: no rate) to the store's budget and records a hold (ms 0: none). */
export async function chargeStoreBudget(
  db: Queryable, store: string, rows: number, rowsPerSecond: number | undefined, hold: { ms: number; why: string } | undefined,
): Promise<StoreBudgetRow | undefined> {
  const { rows: answer } = await db.query<{ next_at: number; held_until: number; held_why: string; now: number }>(chargeStatement,
    [store, rows, rowsPerSecond ?? null, hold?.ms ?? 0, hold?.why ?? '']);
  const row = answer[0];
  return row ? { nextAt: row.next_at, heldUntil: row.held_until, heldWhy: row.held_why, now: row.now } : undefined;
}

/** Forgets a store's budget (a bench's or test's own key when it is done). */
export async function forgetStoreBudget(db: Queryable, store: string): Promise<void> {
  await db.query('DELETE FROM upshift.store_budgets WHERE store = $1', [store]);
}
