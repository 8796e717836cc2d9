import { UpshiftError } from '@upshift/runtime';

/**
 * Caps the shards one process works on at once: each works its shard for up to the budget on the
 * engine's few connections (UPSHIFT_STORE_POOL_SIZE), so past the cap a delivery is refused with
 * THROTTLED (429, retried later) rather than waiting longer than a delivery may last. No control-store
 * connection is held meanwhile. In Knative (concurrency 1) the cap is never reached; under
 * `upshift dev` one process gets every partition at once.
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
