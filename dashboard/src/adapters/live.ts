/**
 * Live documents for open pages: one per open run (and one for the runs list), rebuilt when the control
 * store says the run changed (NOTIFY, run-changes.ts) — at most once per `coalesceMs` per run, however
 * many batches commit — and on a slow tick while the run goes on (rates and durations move with the
 * clock; a notification lost with a connection is caught up). A page that subscribes gets the current
 * document at once, then every changed one. Documents are sent as the JSON text built once per change.
 */

/** Who receives a document: an SSE stream. */
export interface Subscriber {
  /** `id`: the document's version (SSE `id:`), so a reconnecting page that has it is not sent it again. */
  send(id: string, json: string): void;
}

/** Builds a document: its JSON, whether it can still change (false once the run ended), or undefined when there is none. */
export type DocumentBuilder = (now: number) => Promise<{ json: string; live: boolean } | undefined>;

/** How the hub paces rebuilds. */
export interface LiveOptions {
  /** A document is rebuilt at most this often (the first change of a quiet run is read at once). */
  readonly coalesceMs: number;
  /** How often a live document is rebuilt without a notification. */
  readonly tickMs: number;
  /** How long a document nobody watches is kept for a page that reconnects. */
  readonly keepMs: number;
  readonly now: () => number;
  readonly onError: (key: string, error: unknown) => void;
}

interface Entry {
  readonly key: string;
  readonly build: DocumentBuilder;
  readonly subscribers: Set<Subscriber>;
  json: string | undefined;
  version: number;
  live: boolean;
  lastBuiltAt: number;
  timer: NodeJS.Timeout | undefined;
  building: Promise<void> | undefined;
  dirty: boolean;
  dropTimer: NodeJS.Timeout | undefined;
}

/** The open documents and their subscribers. */
export class LiveDocuments {
  readonly #entries = new Map<string, Entry>();
  readonly #options: LiveOptions;
  readonly #boot = Date.now().toString(36);
  readonly #ticker: NodeJS.Timeout;

  constructor(options: LiveOptions) {
    this.#options = options;
    this.#ticker = setInterval(() => this.#tick(), options.tickMs);
    this.#ticker.unref();
  }

  /**
   * Subscribes to document `key` (built by `build` when not open yet); the subscriber gets the current
   * document first unless `lastEventId` says it has it. Resolves false when there is no such document.
   */
  async subscribe(key: string, build: DocumentBuilder, subscriber: Subscriber, lastEventId?: string): Promise<{ found: boolean; unsubscribe: () => void }> {
    const entry = this.#open(key, build);
    const unsubscribe = () => this.#leave(entry, subscriber);
    // Joins after the first build, so the document it is sent first is the current one, and sent once.
    if (entry.json === undefined) await this.#rebuild(entry);
    else this.#schedule(entry);
    entry.subscribers.add(subscriber);
    if (entry.json === undefined) {
      unsubscribe();
      return { found: false, unsubscribe };
    }
    if (lastEventId !== this.#idOf(entry)) subscriber.send(this.#idOf(entry), entry.json);
    return { found: true, unsubscribe };
  }

  /** The current document (built now if it is not open), for a plain GET. */
  async current(key: string, build: DocumentBuilder): Promise<string | undefined> {
    const entry = this.#entries.get(key);
    if (entry?.json !== undefined) return entry.json;
    return (await build(this.#options.now()))?.json;
  }

  /** Document `key` may have changed: rebuild it (coalesced) if someone watches it. */
  changed(key: string): void {
    const entry = this.#entries.get(key);
    if (entry) this.#schedule(entry);
  }

  /** Every open document may have changed (the listener reconnected after missing notifications). */
  changedAll(): void {
    for (const entry of this.#entries.values()) this.#schedule(entry);
  }

  /** Stops every timer; subscribers are the server's to close. */
  close(): void {
    clearInterval(this.#ticker);
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.timer);
      clearTimeout(entry.dropTimer);
    }
    this.#entries.clear();
  }

  #idOf(entry: Entry): string {
    return `${this.#boot}.${entry.version}`;
  }

  #open(key: string, build: DocumentBuilder): Entry {
    const open = this.#entries.get(key);
    if (open) {
      clearTimeout(open.dropTimer);
      open.dropTimer = undefined;
      return open;
    }
    const entry: Entry = { key, build, subscribers: new Set(), json: undefined, version: 0, live: true, lastBuiltAt: 0, timer: undefined, building: undefined, dirty: false, dropTimer: undefined };
    this.#entries.set(key, entry);
    return entry;
  }

  #leave(entry: Entry, subscriber: Subscriber): void {
    entry.subscribers.delete(subscriber);
    if (entry.subscribers.size > 0 || entry.dropTimer) return;
    entry.dropTimer = setTimeout(() => {
      if (entry.subscribers.size > 0) return;
      clearTimeout(entry.timer);
      this.#entries.delete(entry.key);
    }, this.#options.keepMs);
    entry.dropTimer.unref();
  }

  #tick(): void {
    for (const entry of this.#entries.values()) if (entry.live && entry.subscribers.size > 0) this.#schedule(entry);
  }

  #schedule(entry: Entry): void {
    if (entry.building) {
      entry.dirty = true;
      return;
    }
    if (entry.timer) return;
    const delay = Math.max(0, entry.lastBuiltAt + this.#options.coalesceMs - this.#options.now());
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      this.#rebuild(entry).catch(() => undefined); // #rebuild reports its own failures
    }, delay);
  }

  #rebuild(entry: Entry): Promise<void> {
    entry.building ??= (async () => {
      const now = this.#options.now();
      try {
        const built = await entry.build(now);
        entry.lastBuiltAt = now;
        if (built === undefined || built.json === entry.json) return;
        entry.json = built.json;
        entry.live = built.live;
        entry.version += 1;
        for (const subscriber of entry.subscribers) subscriber.send(this.#idOf(entry), built.json);
      } catch (error) {
        entry.lastBuiltAt = now;
        this.#options.onError(entry.key, error);
      } finally {
        entry.building = undefined;
        if (entry.dirty) {
          entry.dirty = false;
          this.#schedule(entry);
        }
      }
    })();
    return entry.building;
  }
}
