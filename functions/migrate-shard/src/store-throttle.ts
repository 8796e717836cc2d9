/**
 * The store throttle around a shard's engine: before each batch it looks at the store (held while the
 * store is over a limit of `strategy.throttle`, or while another shard of the store holds it) and, with
 * a `storeRowsPerSecond`, reserves the batch's rows in the store's shared budget; it runs the batch with
 * one more look while the batch holds its row locks (writers blocked behind it slow the next batch),
 * then waits what the decision says, sharing a hold with every shard of the store.
 * A batch runs only in one of the store's batch slots (`storeBatchesInFlight`: at most that many
 * batches of the store at once, over every shard, run and instance; `auto`, the default: a cap every
 * shard of the store adapts to what its batches and looks see). Restore pages go through the same throttle
 * (`aroundPage`) as backfill batches (`wrap`).
 * Decisions are the pure `core/throttle.ts` and `core/batches-in-flight.ts`; reading is
 * `@upshift/migrations`' signal readers; the shared budget is `adapters/store-budget.ts`, the slots and
 * the shared cap `adapters/store-batch-slots.ts`.
 */
import type { StrategyThrottle } from '@upshift/events/contract';
import { MigrationError } from '@upshift/migrations';
import type { BatchRequest, BatchResult, MigrationEngine, StoreSignalReader, StoreSignalReading } from '@upshift/migrations';
import { batchSlotLeaseMs, blockedBetweenBatches, decideThrottle, heldLookMs, nextThrottleState, slotWaitMs } from './core/throttle.ts';
import type { ThrottleDecision, ThrottleState } from './core/throttle.ts';
import { inFlightSetting, nextInFlightCap, type InFlightCap, type InFlightSetting } from './core/batches-in-flight.ts';
import type { StoreBatchSlots } from './adapters/store-batch-slots.ts';
import type { StoreBudget } from './adapters/store-budget.ts';
import { abortableSleep } from './abortable-sleep.ts';

/** What the throttle works with. */
export interface StoreThrottleOptions {
  reader: StoreSignalReader;
  /** The store's shared budget (undefined: this process alone, e.g. a unit test). */
  budget: StoreBudget | undefined;
  /** The store's batch slots, taken per batch (undefined: no cap can be kept, e.g. a unit test without a control store). */
  slots?: StoreBatchSlots | undefined;
  limits: StrategyThrottle;
  signal: AbortSignal;
  /** The invocation ends then (epoch ms): a hold past it is THROTTLED (the delivery comes back later). */
  until: number;
  /** Called whenever the state changes (for logs and metrics). */
  onChange?: (state: ThrottleState) => void;
  /**
   * Awaited when the shard starts holding and every `heldReportMs` while it holds: no batch commits
   * meanwhile, so this is how its step and progress say that it holds, and why.
   */
  onHeld?: (state: ThrottleState) => Promise<void>;
}

/** How often a holding shard reports that it still holds. */
export const heldReportMs = 5000;

/** One shard invocation's store throttle. */
export class StoreThrottle {
  readonly #options: StoreThrottleOptions;
  #state: ThrottleState | undefined;
  #nextCap: number | undefined;
  #waitUntil = 0;
  #lastBatchMs = 0;
  #budgetAt = 0;
  #heldReportedAt: number | undefined;
  readonly #inFlightSetting: InFlightSetting;
  /** The store's cap of batches in flight as last seen, with its shared row as read (for a compare-and-set). */
  #inFlight: { cap: InFlightCap; row: string | undefined } | undefined;

  constructor(options: StoreThrottleOptions) {
    this.#options = options;
    this.#inFlightSetting = inFlightSetting(options.limits.storeBatchesInFlight);
  }

  /** The store's cap of batches in flight as this shard last saw it (undefined: before its first slot). */
  get batchesInFlightCap(): number | undefined {
    return this.#inFlight?.cap.cap;
  }

  /** The shard's throttle state and why, as its step and progress show it. */
  get state(): ThrottleState | undefined {
    return this.#state;
  }

  /** The engine with every batch throttled (other calls go straight through). */
  wrap(engine: MigrationEngine): MigrationEngine {
    return new Proxy(engine, {
      get: (target, property) => {
        if (property === 'runBatch') {
          return (request: BatchRequest): Promise<BatchResult> => this.aroundPage(request.batchSize, (batchSize) => target.runBatch({ ...request, batchSize }));
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /**
   * Runs one page of work (a backfill batch, a restore page) of at most `size` rows through the
   * throttle: waits while the store is held or paced, runs `page` with the size the throttle allows
   * (in a batch slot when batches in flight are capped), then looks at what the page did to the store.
   */
  readonly aroundPage = async <T>(size: number, page: (size: number) => Promise<T>): Promise<T> => {
    const rate = this.#options.limits.storeRowsPerSecond;
    const cap = minCap(await this.#beforeBatch(size), rate); // a batch never holds more than a second of the store's rate
    const batchSize = cap === undefined ? size : Math.max(1, Math.min(size, cap));
    if (rate !== undefined && this.#options.budget) {
      // Reserve the batch's rows in the store's budget before it runs; start when the reservation does.
      const answer = await this.#options.budget.charge(batchSize, rate, undefined);
      await this.#sleepUntil(Date.now() + Math.max(answer.startAt, answer.heldUntil) - answer.now);
    }
    const taken = await this.#takeSlot();
    // One look while the batch holds its row locks: writers queued behind it show up only now.
    let during: Promise<StoreSignalReading | undefined> | undefined;
    const timer = setTimeout(() => { during = this.#read(); }, Math.max(5, Math.round(this.#options.limits.targetBatchMs / 2)));
    const started = performance.now();
    let result: T;
    try {
      result = await page(batchSize);
    } finally {
      clearTimeout(timer);
      if (taken !== undefined) await this.#options.slots?.giveBack(taken.slot);
    }
    this.#lastBatchMs = performance.now() - started;
    const reading = await during;
    const decision = reading ? this.#decide(reading, batchSize) : clearDecision;
    this.#nextCap = decision.batchCap;
    await this.#adaptInFlight(decision, taken && { batchMs: this.#lastBatchMs, inFlight: taken.inFlight });
    await this.#settle(decision);
    return result;
  };

  /**
   * One of the store's batch slots, with the batches in flight with it (undefined: no slots, or the
   * shard stops anyway); waits while the cap is reached, THROTTLED past the invocation's end.
   */
  async #takeSlot(): Promise<{ slot: string; inFlight: number } | undefined> {
    const slots = this.#options.slots;
    const setting = this.#inFlightSetting;
    if (!slots) return undefined;
    const expectedMs = Math.max(this.#lastBatchMs, this.#options.limits.targetBatchMs);
    while (!this.#options.signal.aborted) {
      const answer = await slots.take(setting, expectedMs, batchSlotLeaseMs);
      this.#inFlight = { cap: answer.cap, row: answer.capRow };
      if (answer.slot !== undefined) return { slot: answer.slot, inFlight: answer.inFlight };
      if (Date.now() >= this.#options.until) {
        const cap = answer.cap.cap;
        throw new MigrationError('THROTTLED', `${this.#options.reader.target}: ${cap} batch${cap === 1 ? '' : 'es'} of the store already in flight`);
      }
      await this.#sleepUntil(Date.now() + slotWaitMs(answer.freeAt, answer.now));
    }
    return undefined;
  }

  /**
   * Changes the store's adaptive cap of batches in flight as the decision after a batch (or a look
   * while held, `batch` undefined) says; a failed change leaves the cap as it is.
   */
  async #adaptInFlight(decision: ThrottleDecision, batch: { batchMs: number; inFlight: number } | undefined): Promise<void> {
    const slots = this.#options.slots;
    const setting = this.#inFlightSetting;
    if (!slots || !setting.adaptive) return;
    const seen = this.#inFlight ?? { cap: { cap: setting.initial, why: '' }, row: undefined };
    const change = nextInFlightCap({
      seen: seen.cap, setting, decision, batchMs: batch?.batchMs, targetBatchMs: this.#options.limits.targetBatchMs, inFlightAtStart: batch?.inFlight,
    });
    if (!change) return;
    const answer = await slots.changeCap(seen.row, change.next, change.afterMs).catch(() => undefined);
    if (answer) this.#inFlight = { cap: answer.cap ?? seen.cap, row: answer.row };
  }

  /** Waits out the pause, then looks until the store is not held; returns the cap of the batch to run. */
  async #beforeBatch(batchSize: number): Promise<number | undefined> {
    for (;;) {
      await this.#sleepUntil(this.#waitUntil);
      const reading = await this.#read();
      const decision = reading ? blockedBetweenBatches(this.#decide(reading, batchSize), reading, this.#options.limits) : clearDecision;
      if (decision.state === 'clear') {
        this.#heldReportedAt = undefined;
        this.#record(decision, reading);
        return this.#nextCap;
      }
      if (decision.state === 'slowed') {
        this.#record(decision, reading);
        await this.#sleepUntil(Date.now() + decision.pauseMs);
        return minCap(this.#nextCap, decision.batchCap);
      }
      await this.#adaptInFlight(decision, undefined);
      await this.#settle(decision, reading);
      await this.#reportHeld();
      if (this.#waitUntil > this.#options.until) {
        throw new MigrationError('THROTTLED', `${this.#options.reader.target}: held by the store throttle (${decision.reason})`);
      }
    }
  }

  /** Records the decision, shares a hold through the store's budget (and sees other shards' holds), sets when the next batch may start. */
  async #settle(decision: ThrottleDecision, reading?: StoreSignalReading): Promise<void> {
    this.#record(decision, reading);
    const now = Date.now();
    let waitUntil = now + decision.pauseMs;
    const budget = this.#options.budget;
    const hold = decision.state === 'held' ? { ms: decision.pauseMs, why: decision.reason } : undefined;
    // The shared row is written when there is a hold to share, else looked at every `budgetLookMs` for
    // other shards' holds: a clear store costs no control-store write per batch (rates are reserved before each batch).
    if (budget && (hold || now - this.#budgetAt >= budgetLookMs)) {
      this.#budgetAt = now;
      const answer = await budget.charge(0, undefined, hold);
      const heldByOthers = answer.heldUntil - answer.now;
      waitUntil = Math.max(waitUntil, now + heldByOthers);
      if (heldByOthers > 0 && answer.heldWhy !== '' && decision.state !== 'held') {
        this.#record({ state: 'held', batchCap: undefined, pauseMs: heldByOthers, reason: `store held by another shard: ${answer.heldWhy}` }, reading);
      }
    }
    this.#waitUntil = waitUntil;
  }

  async #reportHeld(): Promise<void> {
    const now = Date.now();
    if (!this.#options.onHeld || !this.#state || (this.#heldReportedAt !== undefined && now - this.#heldReportedAt < heldReportMs)) return;
    this.#heldReportedAt = now;
    await this.#options.onHeld(this.#state);
  }

  #decide(reading: StoreSignalReading, batchSize: number): ThrottleDecision {
    return decideThrottle({ signals: reading, limits: this.#options.limits, batchSize, lastBatchMs: this.#lastBatchMs, target: this.#options.reader.target });
  }

  #record(decision: ThrottleDecision, reading: StoreSignalReading | undefined): void {
    const previous = this.#state;
    const inFlight = this.#inFlight && { ...this.#inFlight.cap, adaptive: this.#inFlightSetting.adaptive };
    this.#state = nextThrottleState(previous, decision, Date.now(), reading?.unavailable ?? previous?.unavailable ?? [], inFlight);
    const changed = previous?.state !== this.#state.state || previous.reason !== this.#state.reason || previous.batchesInFlight?.cap !== inFlight?.cap;
    if (changed) this.#options.onChange?.(this.#state);
  }

  /** One look at the store; a failed look counts as no signal (the batch's own timeouts still protect the store). */
  async #read(): Promise<StoreSignalReading | undefined> {
    const query = this.#options.limits.query;
    return this.#options.reader.read(query ? { timeoutMs: query.timeoutMs } : undefined).catch(() => undefined);
  }

  async #sleepUntil(at: number): Promise<void> {
    const signal = this.#options.signal;
    while (!signal.aborted) {
      const wait = Math.min(at, this.#options.until) - Date.now();
      if (wait <= 0) return;
      await abortableSleep(Math.min(wait, heldLookMs), signal);
    }
  }
}

/** How often a shard without a rate or a hold of its own looks for other shards' holds. */
const budgetLookMs = 250;

const clearDecision: ThrottleDecision = { state: 'clear', batchCap: undefined, pauseMs: 0, reason: '' };

function minCap(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}
