/** The `run.progress` of the migrate stage, from every shard step of the run (read in the caller's transaction). */
import type { EventData } from '@upshift/events';
import { loadPlan, type TxClient } from '@upshift/runtime';
import { migrateProgress } from './core/progress.ts';
import type { ShardState } from './core/shard-state.ts';
import { shardsOfRun } from './adapters/steps.ts';

/** Progress of run `runId` as of this transaction, with a message about shard `shardId`. */
export async function progressOf(tx: TxClient, runId: string, shardId: string, state: ShardState): Promise<EventData<'run.progress'>> {
  const shards = await shardsOfRun(tx, runId);
  const numbers = migrateProgress(shards);
  const waves = (await loadPlan(tx, runId))?.waves.length ?? 0;
  const checkpoint = state.checkpoint;
  const message = `${shardId}: ${checkpoint?.scanned ?? 0} scanned, ${checkpoint?.changed ?? 0} changed in ${checkpoint?.batches ?? 0} batches (next batch ${checkpoint?.batchSize ?? state.batchSize} rows)`;
  return { runId, stage: 'migrate', wavesDone: waves, wavesTotal: waves, ...numbers, message };
}
