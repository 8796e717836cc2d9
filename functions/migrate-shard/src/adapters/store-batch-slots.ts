/**
 * A store's batch slots in the control store (`takeStoreBatchSlot` in the runtime's store, rows of the
 * shared budgets table): at most `strategy.throttle.storeBatchesInFlight` batches of one store run at
 * once over every shard of every run and every instance. A slot is held for one batch and given back
 * after it; one whose worker died mid-batch comes back when its lease ends. An adaptive cap (`auto`) is
 * one more row of the store (`<store>#in-flight`, JSON `{cap, why}`), read by every take and changed by
 * compare-and-set, so every shard of the store works to one cap (`core/batches-in-flight.ts` decides).
 */
import { randomUUID } from 'node:crypto';
import { changeStoreBatchCap, giveBackStoreBatchSlot, takeStoreBatchSlot, type Queryable } from '@upshift/runtime';
import { adaptiveInFlightMemoryMs, type InFlightCap, type InFlightSetting } from '../core/batches-in-flight.ts';

/** A try for a slot, with the store's cap as the take saw it. */
export interface BatchSlotAnswer {
  /** The slot taken (undefined: none free under the cap). */
  slot: string | undefined;
  /** When the first taken slot is expected back, and now (epoch ms, the control store's clock). */
  freeAt: number | undefined;
  now: number;
  /** Batches of the store in flight with this one, when a slot was taken. */
  inFlight: number;
  cap: InFlightCap;
  /** The cap's shared row as read (undefined: none; the compare-and-set of a change needs it). */
  capRow: string | undefined;
}

/** The batch slots of one store, taken and given back by one holder (a shard invocation's throttle). */
export class StoreBatchSlots {
  readonly #store: Queryable;
  readonly #key: string;
  readonly #holder = randomUUID();

  constructor(store: Queryable, storeKey: string) {
    this.#store = store;
    this.#key = storeKey;
  }

  /** Takes a slot under the setting's cap for a batch expected to last `expectedMs` (lost after `leaseMs`); answers without one when the cap is reached. */
  async take(setting: InFlightSetting, expectedMs: number, leaseMs: number): Promise<BatchSlotAnswer> {
    const cap = setting.adaptive ? { row: this.#capRow, initial: setting.initial } : undefined;
    const answer = await takeStoreBatchSlot(this.#store, this.#key, setting.bound, this.#holder, expectedMs, leaseMs, cap);
    return {
      slot: answer.slot, freeAt: answer.freeAt, now: answer.now, inFlight: answer.taken + 1, capRow: answer.capRow,
      cap: { cap: answer.cap, why: parseCapRow(answer.capRow)?.why ?? '' },
    };
  }

  /**
   * Changes the store's adaptive cap from the row `seen` to `next`, unless another shard changed it first
   * or it changed less than `windowMs` ago; answers the row as it is now.
   */
  async changeCap(seen: string | undefined, next: InFlightCap, windowMs: number): Promise<{ row: string | undefined; cap: InFlightCap | undefined }> {
    const row = await changeStoreBatchCap(this.#store, this.#capRow, seen, JSON.stringify(next), adaptiveInFlightMemoryMs, windowMs);
    return { row, cap: parseCapRow(row) };
  }

  /** Gives `slot` back; a failure only leaves it to its lease. */
  async giveBack(slot: string): Promise<void> {
    await giveBackStoreBatchSlot(this.#store, slot, this.#holder).catch(() => undefined);
  }

  get #capRow(): string {
    return `${this.#key}#in-flight`;
  }
}

/** The cap in a stored row (undefined: none, or not one of ours). */
function parseCapRow(row: string | undefined): InFlightCap | undefined {
  if (row === undefined) return undefined;
  try {
    const value = JSON.parse(row) as Partial<InFlightCap>;
    return typeof value.cap === 'number' && typeof value.why === 'string' ? { cap: value.cap, why: value.why } : undefined;
  } catch {
    return undefined;
  }
}
