/**
 * What migrate-shard keeps in a shard step's checkpoint between invocations (pure): the shard as
 * planned, the engine's checkpoint, how long it has run over all hops, and why it failed.
 */
import type { KeyRange, ShardCheckpoint } from '@upshift/migrations';
import type { ThrottleState } from './throttle.ts';

/** Step statuses of a shard, in the order they can happen. */
export const shardStatuses = ['pending', 'running', 'completed', 'failed', 'cancelled', 'restoring', 'restored'] as const;
/** One shard step status. */
export type ShardStatus = (typeof shardStatuses)[number];

/** Why a shard failed permanently: the database's words, the row it stopped at, where it stood. */
export interface ShardFailure {
  error: string;
  /** The failing row/document key when known; else the key after which the failing row lies. */
  key: string | null;
  keyKnown: boolean;
  lastKey: string | null;
}

/** The persisted state of one shard. */
export interface ShardState {
  migration: string;
  index: number;
  shards: number;
  range: KeyRange;
  batchSize: number;
  backup: boolean;
  /** Rows the shard is expected to hold (the migration's estimate over its shard count), for progress. */
  estimatedRows: number;
  checkpoint: ShardCheckpoint | null;
  /** Invocations that worked on it (continuations and retries). */
  hops: number;
  /** Time spent working on it over every hop. */
  elapsedMs: number;
  /** When this shard last reported progress (epoch ms), so continuations keep the once-a-second rule. */
  progressAt?: number;
  /** What this shard has counted into its run's progress tally so far (core/progress.ts). */
  counted?: { done: number; rows: number; share: number };
  failure?: ShardFailure;
  /** The store throttle's state and why, as of the last committed batch (progress, `upshift watch`, metrics). */
  throttle?: ThrottleState;
}

/** The state of a shard that was planned but not started. */
export function plannedShard(input: Omit<ShardState, 'checkpoint' | 'hops' | 'elapsedMs'>): ShardState {
  return { ...input, checkpoint: null, hops: 0, elapsedMs: 0 };
}

/** Statuses after which a `shard.requested` has nothing left to do. */
export function isSettled(status: string): boolean {
  return status !== 'pending' && status !== 'running';
}

/** Reads a stored state back (a step created by someone else may have none): null when it is not ours. */
export function asShardState(value: unknown): ShardState | null {
  if (typeof value !== 'object' || value === null) return null;
  const state = value as Partial<ShardState>;
  if (typeof state.migration !== 'string' || typeof state.range !== 'object' || state.range === null) return null;
  return { checkpoint: null, hops: 0, elapsedMs: 0, estimatedRows: 0, ...state } as ShardState;
}
