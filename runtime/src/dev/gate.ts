/**
 * The dispatcher's stand-in for Knative's queue-proxy: at most `limit` requests to a function at
 * once (its `containerConcurrency`), the others waiting in arrival order. A busy function makes a
 * delivery wait here instead of answering 429 and spending the delivery's retries.
 */

/** A first-in first-out counting semaphore. */
export class ConcurrencyGate {
  readonly limit: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Requests in flight now. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a place. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Waits for a place; false (and no place taken) when `signal` aborts first. Call `leave` after a true. */
  async enter(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return false;
    if (this.#active < this.limit && this.#waiting.length === 0) {
      this.#active += 1;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const admit = (): void => {
        signal?.removeEventListener('abort', giveUp);
        resolve(true);
      };
      const giveUp = (): void => {
        const index = this.#waiting.indexOf(admit);
        if (index >= 0) this.#waiting.splice(index, 1);
        resolve(false);
      };
      this.#waiting.push(admit);
      signal?.addEventListener('abort', giveUp, { once: true });
    });
  }

  /** Frees a place, handing it straight to the longest waiter. */
  leave(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active = Math.max(0, this.#active - 1);
  }
}
