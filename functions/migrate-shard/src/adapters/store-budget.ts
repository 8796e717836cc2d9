/**
 * The per-store throttle budget every shard of every run shares (see README "Shared budget"): one row
 * per store in the control store (`upshift.store_budgets`, `chargeStoreBudget` in the runtime's store),
 * changed by one atomic upsert per batch. It holds a virtual clock for the store's rows/s (GCRA: a batch
 * of n rows reserves n/rate seconds starting at the clock or now, whichever is later, and starts when its
 * reservation does), and a hold that any shard which saw the store over a limit sets for every shard of
 * that store, with its reason.
 */
import { chargeStoreBudget, type Queryable } from '@upshift/runtime';

/** What the store's budget says after a charge (epoch ms, as the control store's clock tells it). */
export interface BudgetAnswer {
  /** This shard's batch may start then (the start of its reservation at the store's rate; `now` without a rate). */
  startAt: number;
  /** Every shard of the store holds until then, for `heldWhy`. */
  heldUntil: number;
  heldWhy: string;
  /** The control store's now, so waits are computed on one clock. */
  now: number;
}

/** The budget of one store in the control store. */
export class StoreBudget {
  readonly #store: Queryable;
  readonly #key: string;

  constructor(store: Queryable, storeKey: string) {
    this.#store = store;
    this.#key = storeKey;
  }

  /** Reserves `rows` at `rowsPerSecond` (when set) and records a hold with its reason; answers with the waits. */
  async charge(rows: number, rowsPerSecond: number | undefined, hold: { ms: number; why: string } | undefined): Promise<BudgetAnswer> {
    const row = await chargeStoreBudget(this.#store, this.#key, rows, rowsPerSecond, hold);
    if (!row) return { startAt: 0, heldUntil: 0, heldWhy: '', now: 0 };
    const reserved = rowsPerSecond === undefined ? 0 : (rows * 1000) / rowsPerSecond;
    return { startAt: rowsPerSecond === undefined ? row.now : row.nextAt - reserved, heldUntil: row.heldUntil, heldWhy: row.heldWhy, now: row.now };
  }
}
