/**
 * The application of the online benchmark (issue 20): an open-loop writer — writes are scheduled at a
 * fixed rate whatever the store does, and each one's latency runs from its scheduled time to its commit,
 * so a stalled store shows as queueing, not as a writer that politely slowed down (no coordinated
 * omission). 80 % single-row updates of random existing keys, 20 % inserts of new keys.
 */

/** One write the application does: an update of an existing key, or an insert of a new one; `scheduled` is when it was due (performance.now()). */
export interface StoreWriter {
  update(key: number, note: string, scheduled: number): Promise<void>;
  insert(key: number, note: string, scheduled: number): Promise<void>;
}

/** Latency figures of one writer run, ms. */
export interface WriterFigures {
  /** Every write's latency, ms (so several rounds pool into one set of figures). */
  latencies: number[];
  /** The latencies of the updates alone and of the inserts alone (they take different paths in a store). */
  byKind: { update: number[]; insert: number[] };
  writes: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/** A running writer: stop it to get its figures. */
export interface RunningWriter {
  stop(): Promise<WriterFigures>;
}

/**
 * Starts writing at `perSecond` over keys 1..`existing` (updates) and above `firstNewKey` (inserts).
 * `random` is seeded by the caller so runs are comparable.
 */
export function startWriter(store: StoreWriter, options: { perSecond: number; existing: number; firstNewKey: number; random?: () => number }): RunningWriter {
  const random = options.random ?? seededRandom(20);
  const interval = 1000 / options.perSecond;
  const latencies: number[] = [];
  const byKind = { update: [] as number[], insert: [] as number[] };
  const pending = new Set<Promise<void>>();
  let failed = 0;
  let nextKey = options.firstNewKey;
  let stopped = false;
  const started = performance.now();
  let index = 0;
  const tick = (): void => {
    if (stopped) return;
    const now = performance.now();
    // Every write whose time has come is issued now, however late: open loop.
    while (started + index * interval <= now) {
      const scheduled = started + index * interval;
      index += 1;
      const kind = random() < 0.8 ? 'update' : 'insert';
      const write = kind === 'update' ? store.update(1 + Math.floor(random() * options.existing), `w${index}`, scheduled) : store.insert(nextKey++, `w${index}`, scheduled);
      const tracked: Promise<void> = write.then(() => {
        const ms = performance.now() - scheduled;
        latencies.push(ms);
        byKind[kind].push(ms);
      }, () => { failed += 1; })
        .finally(() => pending.delete(tracked));
      pending.add(tracked);
    }
    setTimeout(tick, Math.max(0, started + index * interval - performance.now()));
  };
  tick();
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(pending);
      return figures(latencies, byKind, failed);
    },
  };
}

function figures(latencies: number[], byKind: WriterFigures['byKind'], failed: number): WriterFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { latencies: sorted, byKind, writes: sorted.length, failed, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0 };
}

/** The `q` quantile of ascending `sorted` (0 when empty). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** The figures of several runs pooled (percentiles over every write of all of them). */
export function pooledFigures(runs: readonly WriterFigures[]): WriterFigures {
  const byKind = { update: runs.flatMap((run) => run.byKind.update), insert: runs.flatMap((run) => run.byKind.insert) };
  return figures(runs.flatMap((run) => run.latencies), byKind, runs.reduce((sum, run) => sum + run.failed, 0));
}

/** A small deterministic generator (mulberry32), so every phase writes the same key sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `p99 12.3 ms (p50 1.2, max 80; 1000 writes; updates p99 12.0, inserts p99 14.1)`. */
export function describeWriter(figures: WriterFigures): string {
  const p99Of = (latencies: number[]) => quantile([...latencies].sort((a, b) => a - b), 0.99).toFixed(1);
  return `p99 ${figures.p99.toFixed(1)} ms (p50 ${figures.p50.toFixed(1)}, max ${figures.max.toFixed(0)}; ${figures.writes} writes${figures.failed > 0 ? `, ${figures.failed} failed` : ''}; `
    + `updates p99 ${p99Of(figures.byKind.update)}, inserts p99 ${p99Of(figures.byKind.insert)})`;
}
