/**
 * The bookkeeping of key-ordered delivery (the dev dispatcher's default): many records of a partition in
 * flight at once, records of one Kafka key one after another, and the partition's offset committed only
 * up to the lowest record not finished yet, so a crash or a stop redelivers what was in flight and never
 * skips it. Pure: no Kafka, no timers; the dispatcher drives it.
 */

/**
 * The offsets of one fetched batch, in order, and which of them are finished. `finish` answers the offset
 * to resolve (kafkajs `resolveOffset`: the last one of the finished prefix) when the prefix grew.
 */
export class CommitFrontier {
  readonly #offsets: readonly string[];
  readonly #finished = new Set<string>();
  #prefix = 0;

  /** `offsets` in the order of the partition (kafkajs batch order). */
  constructor(offsets: readonly string[]) {
    this.#offsets = offsets;
  }

  /** Marks `offset` finished; the new last offset of the finished prefix when it moved, else undefined. */
  finish(offset: string): string | undefined {
    this.#finished.add(offset);
    const before = this.#prefix;
    while (this.#prefix < this.#offsets.length && this.#finished.has(this.#offsets[this.#prefix]!)) this.#prefix += 1;
    return this.#prefix > before ? this.#offsets[this.#prefix - 1] : undefined;
  }

  /** The lowest offset not finished yet (where a restart resumes), or undefined when all are. */
  get lowestUnfinished(): string | undefined {
    return this.#offsets[this.#prefix];
  }
}

/**
 * Records waiting behind an earlier record of the same key. A record without a key has no order to keep
 * (Kafka spreads keyless records over partitions) and never waits.
 */
export class KeyChains<T> {
  readonly #waiting = new Map<string, T[]>();

  /**
   * Queues `item` behind the chain of `key` when one is running (true); otherwise starts a chain for the
   * key and answers false: the caller delivers `item` now and asks `next(key)` when it is done.
   */
  join(key: string | undefined, item: T): boolean {
    if (key === undefined) return false;
    const queue = this.#waiting.get(key);
    if (!queue) {
      this.#waiting.set(key, []);
      return false;
    }
    queue.push(item);
    return true;
  }

  /** The next record of `key`'s chain, or undefined (and the chain ends) when none waits. */
  next(key: string | undefined): T | undefined {
    if (key === undefined) return undefined;
    const queue = this.#waiting.get(key);
    const item = queue?.shift();
    if (item === undefined) this.#waiting.delete(key);
    return item;
  }
}
