/**
 * The `run.progress` of the migrate stage, from the run's shard tally (read in the caller's transaction):
 * each shard counts in the difference since its last report, so a report reads a few tally rows, never
 * every shard of the run, and the plan's wave count is read once per run and process.
 */
import type { EventData } from '@upshift/events';
import { countProgress, type TxClient } from '@upshift/runtime';
import { wavesOfRun } from './adapters/plan-facts.ts';
import { countDelta, migrateProgress, shardCount, type ShardCount } from './core/progress.ts';
import type { ShardState } from './core/shard-state.ts';
import { throttleNote } from './core/throttle.ts';

/**
 * Progress of run `runId` as of this transaction, with a message about shard `shardId`: counts in what
 * `state` adds to `counted` (the shard's part at its last report). The caller saves `shardCount(state)`
 * as the shard's `counted` in the same transaction.
 */
export async function progressOf(tx: TxClient, runId: string, shardId: string, state: ShardState, counted: ShardCount | undefined): Promise<EventData<'run.progress'>> {
  const tally = await countProgress(tx, runId, state, countDelta(shardCount(state, false), counted));
  const waves = await wavesOfRun(tx, runId);
  const checkpoint = state.checkpoint;
  const message = `${shardId}: ${checkpoint?.scanned ?? 0} scanned, ${checkpoint?.changed ?? 0} changed in ${checkpoint?.batches ?? 0} batches (next batch ${checkpoint?.batchSize ?? state.batchSize} rows)${throttleNote(state.throttle, Date.now())}`;
  return { runId, stage: 'migrate', wavesDone: waves, wavesTotal: waves, ...migrateProgress(tally), message };
}

/** Counts a shard that ended (completed or failed) into its run's tally: returns the state to save with it. */
export async function countFinished(tx: TxClient, runId: string, state: ShardState): Promise<ShardState> {
  const finished = shardCount(state, true);
  await countProgress(tx, runId, state, countDelta(finished, state.counted));
  return { ...state, counted: finished };
}
