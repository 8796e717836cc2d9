/**
 * The shard table of a run page (pure): one row per shard step, read from the checkpoint migrate-shard
 * commits after every batch (rows scanned and changed, the batch size in use, the failure by key), with
 * rows/s and ETA from the dashboard's own samples of it. Hundreds of shards stay readable because the
 * page groups rows by state; a paused or throttled shard says so apart from its ETA.
 */

/** A shard step as the control store holds it. */
export interface ShardStep {
  readonly key: string;
  readonly status: string;
  readonly attempt: number;
  readonly checkpoint: unknown;
}

/** (time ms, rows scanned) of one shard, oldest first. */
export type ShardSamples = Readonly<Record<string, readonly (readonly [number, number])[]>>;

/** How long the samples behind a shard's rows/s reach back. */
export const rateWindowMs = 10_000;

/** The control state that colours running shards. */
export interface ShardControl {
  readonly paused: boolean;
  readonly throttled: boolean;
}

/** One row of the shard table. */
export interface ShardRow {
  readonly key: string;
  readonly migration: string;
  readonly index: number;
  /** The step status: pending, running, completed, failed, cancelled, restoring, restored. */
  readonly state: string;
  /** What a running or waiting shard is doing under the run's controls, shown apart from its ETA. */
  readonly hold?: 'paused' | 'throttled';
  readonly scanned: number;
  readonly changed: number;
  /** Rows it is expected to hold (an estimate), 0 when unknown. */
  readonly estimated: number;
  readonly fraction: number;
  readonly rowsPerSecond: number | null;
  readonly etaMs: number | null;
  readonly batchSize: number | null;
  readonly batches: number;
  /** Times the database pushed back and the shard slowed down. */
  readonly backoffs: number;
  readonly attempt: number;
  readonly error?: { readonly message: string; readonly key: string | null };
}

interface StoredShard {
  migration?: unknown; index?: unknown; batchSize?: unknown; estimatedRows?: unknown;
  checkpoint?: { scanned?: unknown; changed?: unknown; batches?: unknown; batchSize?: unknown; throttles?: unknown } | null;
  failure?: { error?: unknown; key?: unknown; lastKey?: unknown };
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);
const text = (value: unknown, max: number): string | null => (typeof value === 'string' ? value.slice(0, max) : null);

/** `<runId>:<ref>:<index>` (or `<ref>:<index>`): the migration ref and index of a shard step key. */
export function shardKeyParts(key: string): { migration: string; index: number } {
  const parts = key.split(':');
  const index = Number(parts.at(-1));
  return { migration: parts.at(-2) ?? '', index: Number.isInteger(index) ? index : -1 };
}

/** Rows scanned by a shard so far, from its checkpoint. */
export function scannedOf(step: ShardStep): number {
  return count((step.checkpoint as StoredShard | null)?.checkpoint?.scanned);
}

/** The samples after one more look at the steps at `now`: each shard's scanned count, the last window kept. */
export function nextShardSamples(samples: ShardSamples, steps: readonly ShardStep[], now: number): ShardSamples {
  const next: Record<string, readonly (readonly [number, number])[]> = {};
  for (const step of steps) {
    const kept = (samples[step.key] ?? []).filter(([at]) => at >= now - rateWindowMs && at < now);
    next[step.key] = [...kept, [now, scannedOf(step)] as const];
  }
  return next;
}

/** Rows per second over a shard's samples (at least 1 s of them), else null. */
export function shardRate(samples: readonly (readonly [number, number])[] | undefined): number | null {
  const first = samples?.[0];
  const last = samples?.at(-1);
  if (!first || !last || last[0] - first[0] < 1000) return null;
  return Math.max(0, (last[1] - first[1]) / ((last[0] - first[0]) / 1000));
}

const active = new Set(['pending', 'running']);

/** One table row for a shard step. */
export function shardRow(step: ShardStep, samples: ShardSamples, control: ShardControl): ShardRow {
  const stored = (step.checkpoint ?? {}) as StoredShard;
  const parts = shardKeyParts(step.key);
  const scanned = scannedOf(step);
  const estimated = count(stored.estimatedRows);
  const done = !active.has(step.status);
  const rate = done ? null : shardRate(samples[step.key]);
  const hold = done ? undefined : control.paused ? 'paused' as const : control.throttled ? 'throttled' as const : undefined;
  const eta = done || hold === 'paused' || !rate || estimated === 0 ? null : (Math.max(0, estimated - scanned) / rate) * 1000;
  const failure = stored.failure;
  return {
    key: step.key, migration: text(stored.migration, 128) ?? parts.migration, index: typeof stored.index === 'number' ? stored.index : parts.index,
    state: step.status, ...(hold ? { hold } : {}), scanned, changed: count(stored.checkpoint?.changed), estimated,
    fraction: step.status === 'completed' ? 1 : estimated > 0 ? Math.min(0.99, scanned / estimated) : 0,
    rowsPerSecond: hold === 'paused' ? 0 : rate, etaMs: eta,
    batchSize: stored.checkpoint?.batchSize !== undefined ? count(stored.checkpoint.batchSize) : stored.batchSize !== undefined ? count(stored.batchSize) : null,
    batches: count(stored.checkpoint?.batches), backoffs: count(stored.checkpoint?.throttles), attempt: step.attempt,
    ...(failure && typeof failure.error === 'string' ? { error: { message: failure.error.slice(0, 2000), key: text(failure.key, 500) ?? text(failure.lastKey, 500) } } : {}),
  };
}

/** The order states are listed in: what needs a look first. */
export const stateOrder: readonly string[] = ['failed', 'running', 'restoring', 'pending', 'cancelled', 'completed', 'restored'];

/** Shard rows sorted by state (failed first), then by index. */
export function sortShardRows(rows: readonly ShardRow[]): ShardRow[] {
  const rank = (state: string): number => {
    const at = stateOrder.indexOf(state);
    return at === -1 ? stateOrder.length : at;
  };
  return [...rows].sort((a, b) => rank(a.state) - rank(b.state) || a.index - b.index);
}

/** How many shards are in each state. */
export function countByState(rows: readonly ShardRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.state] = (counts[row.state] ?? 0) + 1;
  return counts;
}
