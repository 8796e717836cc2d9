import { UpshiftError } from '@upshift/runtime';

/**
 * Caps the shards one process works on at once: each works its shard for up to the budget on the
 * engine's few connections (UPSHIFT_STORE_POOL_SIZE), so past the cap a delivery is refused with
 * THROTTLED (429, retried later) rather than waiting longer than a delivery may last. No control-store
 * connection is held meanwhile. The cap defaults to what the platform sends at once
 * (UPSHIFT_CONTAINER_CONCURRENCY: Knative's containerConcurrency, or what `upshift dev`'s dispatcher
 * lets through), so it is reached only when set lower on purpose; a 429 is then backpressure that the
 * dev dispatcher retries without spending the delivery's retries.
 */
export class ShardSlots {
  readonly #limit: number;
  #active = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Runs `work` in a slot, or throws THROTTLED when every slot is taken. */
  async run<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) throw new UpshiftError('THROTTLED', `${what}: ${this.#limit} shards already in progress in this process`);
    this.#active += 1;
    try {
      return await work();
    } finally {
      this.#active -= 1;
    }
  }
}
