/**
 * A store's batch slots in the control store (`takeStoreBatchSlot` in the runtime's store, rows of the
 * shared budgets table): at most `strategy.throttle.storeBatchesInFlight` batches of one store run at
 * once over every shard of every run and every instance. A slot is held for one batch and given back
 * after it; one whose worker died mid-batch comes back when its lease ends.
 */
import { randomUUID } from 'node:crypto';
import { giveBackStoreBatchSlot, takeStoreBatchSlot, type Queryable, type StoreBatchSlot } from '@upshift/runtime';

/** The batch slots of one store, taken and given back by one holder (a shard invocation's throttle). */
export class StoreBatchSlots {
  readonly #store: Queryable;
  readonly #key: string;
  readonly #holder = randomUUID();

  constructor(store: Queryable, storeKey: string) {
    this.#store = store;
    this.#key = storeKey;
  }

  /** Takes one of `slots` for a batch expected to last `expectedMs` (lost after `leaseMs`); answers without a slot when all are taken. */
  take(slots: number, expectedMs: number, leaseMs: number): Promise<StoreBatchSlot> {
    return takeStoreBatchSlot(this.#store, this.#key, slots, this.#holder, expectedMs, leaseMs);
  }

  /** Gives `slot` back; a failure only leaves it to its lease. */
  async giveBack(slot: string): Promise<void> {
    await giveBackStoreBatchSlot(this.#store, slot, this.#holder).catch(() => undefined);
  }
}
