/**
 * migrate-shard's view of its shard steps: the run-state statements of `@upshift/runtime` with the
 * checkpoint read back as a `ShardState`.
 */
import * as runState from '@upshift/runtime';
import type { Queryable, StepKey, StepStatus, TxClient } from '@upshift/runtime';
import { asShardState } from '../core/shard-state.ts';
import type { ShardState } from '../core/shard-state.ts';
import type { ShardStepSeen } from '../core/restore.ts';

export { cancelPendingShards, claimShard, commitCheckpoint, markRestoring, shardStep } from '@upshift/runtime';

/** A shard of a run as read back: its status and state. */
export interface ShardSeen {
  status: string;
  state: ShardState | null;
}

/** A shard step as stored. */
export interface StoredShard {
  status: StepStatus;
  state: ShardState | null;
}

/** Records planned shards (idempotent: a redelivered fan-out changes nothing). */
export async function recordShards(tx: TxClient, runId: string, shards: ReadonlyArray<{ shardId: string; state: ShardState }>): Promise<void> {
  await runState.recordShards(tx, runId, shards.map((s) => ({ shardId: s.shardId, checkpoint: s.state })));
}

/** Creates the shard's step when absent (a shard requested without a fan-out) and reads it. */
export async function ensureShard(db: Queryable, step: StepKey, state: ShardState): Promise<StoredShard> {
  const stored = await runState.ensureShard(db, step, state);
  return { status: stored.status, state: asShardState(stored.checkpoint) };
}

/** Reads a shard step (`pending` and no state when absent). */
export async function readShard(db: Queryable, step: StepKey): Promise<StoredShard> {
  const found = await runState.readStep(db, step);
  return { status: found?.status ?? 'pending', state: asShardState(found?.checkpoint) };
}

/** Every shard of a run with its status and state. */
export async function shardsOfRun(db: Queryable, runId: string): Promise<Array<ShardSeen & ShardStepSeen>> {
  return (await runState.shardsOfRun(db, runId)).map((row) => {
    const state = asShardState(row.checkpoint);
    return { shardId: row.shardId, status: row.status, state, migration: state?.migration ?? '' };
  });
}
