/**
 * The per-store throttle budget every shard of every run shares (`upshift.store_budgets`, schema version
 * 6): one atomic upsert per batch reserves the batch's rows on the store's rows/s clock (GCRA: n rows
 * reserve n/rate seconds from the clock or now, whichever is later) and records a hold any shard may set
 * for every shard of that store, with its reason. The same table keeps a store's batch slots (rows
 * `<store>#batch:<i>`, see `takeStoreBatchSlot`), which cap how many batches of the store run at once,
 * and an adaptive cap's row (`<store>#in-flight`, see `changeStoreBatchCap`).
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

/** Forgets a store's budget and batch slots (a bench's or test's own key when it is done). */
export async function forgetStoreBudget(db: Queryable, store: string): Promise<void> {
  await db.query(`DELETE FROM upshift.store_budgets WHERE store = $1 OR starts_with(store, $1 || '#batch:') OR store = $1 || '#in-flight'`, [store]);
}

/**
 * $1 store, $2 slots, $3 ms until the batch is expected to end, $4 lease ms, $5 holder, $6 the store's
 * shared cap row (null: the cap is $7), $7 the cap when the row is missing or forgotten. A slot is a row
 * `<store>#batch:<i>` (i < $2) of the budgets table: taken while `held_until` (the lease, which frees
 * the slot of a worker that died mid-batch) lies ahead, by `held_why` (the holder); `next_at` is when its
 * batch is expected to end, so a shard that finds no slot knows how long to wait. A slot is claimed only
 * below the cap and while fewer than the cap are taken (a lowered cap lets the higher slots drain). The
 * cap row's `held_why` is JSON `{"cap": n, "why": …}` (`changeStoreBatchCap`). Two shards racing for
 * one free slot: the second one's upsert finds it taken (its WHERE fails) and claims nothing.
 */
const takeSlotStatement = `WITH cap_row AS (SELECT held_why FROM upshift.store_budgets WHERE store = $6 AND held_until > clock_timestamp()),
  cap AS (SELECT least($2::int, coalesce((SELECT (held_why::jsonb ->> 'cap')::int FROM cap_row), $7::int)) AS n),
  slots AS (SELECT i, $1 || '#batch:' || i AS store FROM generate_series(0, $2::int - 1) AS i),
  taken AS (SELECT b.store, b.next_at FROM upshift.store_budgets b JOIN slots USING (store) WHERE b.held_until > clock_timestamp()),
  free AS (SELECT store FROM slots WHERE i < (SELECT n FROM cap) AND store NOT IN (SELECT store FROM taken)
             AND (SELECT count(*) FROM taken) < (SELECT n FROM cap) ORDER BY random() LIMIT 1),
  claimed AS (
    INSERT INTO upshift.store_budgets AS b (store, next_at, held_until, held_why)
      SELECT store, clock_timestamp() + $3::float8 * interval '1 millisecond', clock_timestamp() + $4::float8 * interval '1 millisecond', $5 FROM free
    ON CONFLICT (store) DO UPDATE SET next_at = excluded.next_at, held_until = excluded.held_until, held_why = excluded.held_why, updated_at = clock_timestamp()
      WHERE b.held_until <= clock_timestamp()
    RETURNING b.store)
SELECT (SELECT store FROM claimed) AS slot, (SELECT (extract(epoch FROM min(next_at)) * 1000)::float8 FROM taken) AS free_at,
       (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now, (SELECT count(*)::int FROM taken) AS taken,
       (SELECT n FROM cap) AS cap, (SELECT held_why FROM cap_row) AS cap_row`;

/**
 * A try for a store's batch slot: the slot taken (undefined: none free under the cap), when the first
 * taken one is expected back (epoch ms, control store's clock), how many were taken before, the cap in
 * force and its shared row as stored (undefined: none, the cap was the given one).
 */
export interface StoreBatchSlot {
  readonly slot: string | undefined;
  readonly freeAt: number | undefined;
  readonly now: number;
  readonly taken: number;
  readonly cap: number;
  readonly capRow: string | undefined;
}

/**
 * Takes one of `slots` batch slots of `store` for `holder`, expected back in `expectedMs`, lost after
 * `leaseMs` if never given back; answers without one when the cap (the row `cap.row`, else `cap.initial`)
 * is reached.
 */
export async function takeStoreBatchSlot(
  db: Queryable, store: string, slots: number, holder: string, expectedMs: number, leaseMs: number, cap?: { row: string; initial: number },
): Promise<StoreBatchSlot> {
  const { rows } = await db.query<{ slot: string | null; free_at: number | null; now: number; taken: number; cap: number; cap_row: string | null }>(takeSlotStatement,
    [store, slots, expectedMs, leaseMs, holder, cap?.row ?? null, cap?.initial ?? slots]);
  const row = rows[0];
  return {
    slot: row?.slot ?? undefined, freeAt: row?.free_at ?? undefined, now: row?.now ?? Date.now(), taken: row?.taken ?? 0, cap: row?.cap ?? slots, capRow: row?.cap_row ?? undefined,
  };
}

/**
 * $1 the cap row, $2 its value as last seen ('' when there was none), $3 the new value, $4 ms the row is
 * remembered, $5 ms since its last change before it may change again. A compare-and-set: it changes only
 * what the shard saw (or a missing or forgotten row), at most once per window.
 */
const changeCapStatement = `WITH changed AS (
    INSERT INTO upshift.store_budgets AS b (store, next_at, held_until, held_why)
      VALUES ($1, clock_timestamp(), clock_timestamp() + $4::float8 * interval '1 millisecond', $3)
    ON CONFLICT (store) DO UPDATE SET next_at = excluded.next_at, held_until = excluded.held_until, held_why = excluded.held_why, updated_at = clock_timestamp()
      WHERE (b.held_until <= clock_timestamp() OR (b.held_why = $2 AND b.next_at <= clock_timestamp() - $5::float8 * interval '1 millisecond'))
    RETURNING b.held_why)
SELECT (SELECT held_why FROM changed) AS changed,
       (SELECT held_why FROM upshift.store_budgets WHERE store = $1 AND held_until > clock_timestamp()) AS current`;

/** Sets a store's shared batch cap row `row` from `seen` to `next` (see the statement); answers the row as it is now (undefined: none). */
export async function changeStoreBatchCap(db: Queryable, row: string, seen: string | undefined, next: string, rememberMs: number, windowMs: number): Promise<string | undefined> {
  const { rows } = await db.query<{ changed: string | null; current: string | null }>(changeCapStatement, [row, seen ?? '', next, rememberMs, windowMs]);
  return rows[0]?.changed ?? rows[0]?.current ?? undefined;
}

/** Gives a batch slot back (only while `holder` still holds it: a slot lost to its lease is someone else's now). */
export async function giveBackStoreBatchSlot(db: Queryable, slot: string, holder: string): Promise<void> {
  await db.query(`UPDATE upshift.store_budgets SET held_until = clock_timestamp(), next_at = clock_timestamp(), updated_at = clock_timestamp()
    WHERE store = $1 AND held_why = $2`, [slot, holder]);
}
