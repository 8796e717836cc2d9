/**
 * The dispatcher's stand-in for a Knative Service with several pods behind one address (activator and
 * queue-proxies): each instance takes at most `limitEach` requests at once (its `containerConcurrency`),
 * a request goes to the ready instance with the fewest in flight (ties taken in turn), and when every
 * ready instance is full the requests wait in arrival order. An instance that is not ready (dead, or
 * restarting) gets nothing while another is ready, as Knative routes only to ready pods; when none is
 * ready, requests go to them anyway and fail fast (connection refused), so the delivery policy's retries
 * and dead letters apply as they do to a single process that is down.
 */

/** One instance as the balancer sees it. */
export interface BalancedInstance {
  /** False while the instance is down or not ready yet. */
  readonly ready: () => boolean;
}

/** How often waiting requests look again when no place was freed (an instance may have become ready). */
const recheckMs = 200;

/** Least-in-flight over instances of a bounded concurrency each. */
export class InstanceBalancer {
  readonly limitEach: number;
  readonly #instances: readonly BalancedInstance[];
  readonly #active: number[];
  readonly #queue: object[] = [];
  #wakers: Array<() => void> = [];
  #next = 0;

  constructor(instances: readonly BalancedInstance[], limitEach: number) {
    if (!Number.isInteger(limitEach) || limitEach < 1) throw new RangeError(`concurrency must be a positive integer, got ${limitEach}`);
    if (instances.length < 1) throw new RangeError('a function needs at least one instance');
    this.#instances = instances;
    this.limitEach = limitEach;
    this.#active = instances.map(() => 0);
  }

  /** Requests in flight at once over every instance. */
  get limit(): number {
    return this.#instances.length * this.limitEach;
  }

  /** Requests in flight now, per instance. */
  get active(): readonly number[] {
    return [...this.#active];
  }

  /** Requests waiting for a place. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Waits for a place; the index of the instance to send to, or undefined when `signal` aborts first. Call `leave(index)` after. */
  async enter(signal?: AbortSignal): Promise<number | undefined> {
    const ticket = {};
    this.#queue.push(ticket);
    try {
      for (;;) {
        if (signal?.aborted) return undefined;
        const chosen = this.#queue[0] === ticket ? this.#pick() : undefined;
        if (chosen !== undefined) {
          this.#active[chosen] = (this.#active[chosen] ?? 0) + 1;
          return chosen;
        }
        await this.#changed(signal);
      }
    } finally {
      this.#queue.splice(this.#queue.indexOf(ticket), 1);
      this.#wake();
    }
  }

  /** Frees the place taken at instance `index`. */
  leave(index: number): void {
    this.#active[index] = Math.max(0, (this.#active[index] ?? 0) - 1);
    this.#wake();
  }

  /**
   * The ready instance with a free place and the fewest in flight, starting the search after the last one
   * chosen; when no instance is ready at all, any with a free place.
   */
  #pick(): number | undefined {
    const anyReady = this.#instances.some((instance) => instance.ready());
    let best: number | undefined;
    const count = this.#instances.length;
    for (let offset = 0; offset < count; offset++) {
      const index = (this.#next + offset) % count;
      const active = this.#active[index] ?? 0;
      if (active >= this.limitEach || (anyReady && !this.#instances[index]?.ready())) continue;
      if (best === undefined || active < (this.#active[best] ?? 0)) best = index;
    }
    if (best !== undefined) this.#next = (best + 1) % count;
    return best;
  }

  /** Resolves when a place may have been freed, after `recheckMs`, or when `signal` aborts. */
  #changed(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, recheckMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#wakers.push(done);
    });
  }

  #wake(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }
}
