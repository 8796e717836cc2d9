/**
 * One invocation's work on a shard: the engine's checkpointed loop (`runShard`) until the shard is done,
 * the budget is spent, the lease is lost or a restore asks to stop; each batch's checkpoint committed in
 * its own fenced transaction. A rejected batch is narrowed down to its first failing row.
 */
import { advanceCheckpoint, initialCheckpoint, isMigrationError, runShard } from '@upshift/migrations';
import type { BatchResult, BatchSizeLimits, MigrationEngine, ShardCheckpoint } from '@upshift/migrations';
import { batchErrorVerdict, isolated, nextIsolation, startIsolation } from './core/failure.ts';
import type { ShardFailure, ShardState } from './core/shard-state.ts';
import { databaseWords } from './adapters/engines.ts';

/** Why the invocation stopped working on the shard. */
export type WorkEnd =
  | { kind: 'done'; state: ShardState }
  | { kind: 'failed'; state: ShardState; failure: ShardFailure }
  | { kind: 'budget'; state: ShardState }
  | { kind: 'stopped'; state: ShardState; status: string };

/** What the loop needs from the handler: the engine, where to persist, when to stop. */
export interface WorkInput {
  engine: MigrationEngine;
  state: ShardState;
  signal: AbortSignal;
  /** Persists the checkpoint (fenced) and returns the step status; throws when the lease is lost. */
  persist: (state: ShardState) => Promise<string>;
  /** Called after each committed batch; returns true to hand over (budget spent). */
  handOver: (batch: BatchResult) => boolean;
  /** The adaptive batch size's bounds and target (the policy's `strategy.throttle.targetBatchMs`); the engine's defaults when omitted. */
  batchLimits?: BatchSizeLimits;
}

/**
 * Works on the shard from its stored checkpoint until one of the ends in `WorkEnd`; a shard that ends
 * (done or failed) reports the rows it changed as its backup counts them (`countedFromBackup`).
 */
export async function workOnShard(input: WorkInput): Promise<WorkEnd> {
  const end = await workInBatches(input);
  if (end.kind === 'done') return countedFromBackup(input.engine, end);
  // A failing shard keeps its own reason: a count that fails too leaves the checkpoints' count.
  if (end.kind === 'failed') return countedFromBackup(input.engine, end).catch(() => end);
  return end;
}

/**
 * The end with the shard's changed rows counted from the store's backup, when the shard keeps one. The
 * checkpoints alone undercount after a crash: a batch that committed in the data store while the
 * checkpoint write after it died with the worker is replayed from the previous checkpoint, finds its
 * rows migrated and changes none. Its backup rows are there, one per changed row, so their count over
 * the shard's range is exact however often the shard was interrupted (PostgreSQL: backup and change
 * commit in one transaction; MongoDB: an entry written just before a crash is replaced by the replay
 * before its write, and stays unwritten only if the application migrated or deleted that document in
 * between, which the count then includes). Without backups the checkpoints' count stands.
 */
async function countedFromBackup(engine: MigrationEngine, end: WorkEnd): Promise<WorkEnd> {
  const checkpoint = end.state.checkpoint;
  if (!end.state.backup || checkpoint === null) return end;
  const changed = await engine.countBackedUp(end.state.range);
  return { ...end, state: { ...end.state, checkpoint: { ...checkpoint, changed } } };
}

/** The checkpointed loop of one invocation, bisecting a rejected batch down to its row. */
async function workInBatches(input: WorkInput): Promise<WorkEnd> {
  const started = Date.now();
  const baseElapsed = input.state.elapsedMs;
  let state = input.state;
  let end: WorkEnd | undefined;
  const stop = new AbortController();
  input.signal.addEventListener('abort', () => stop.abort(), { once: true });
  const onBatch = async (checkpoint: ShardCheckpoint, batch: BatchResult): Promise<void> => {
    state = { ...state, checkpoint, elapsedMs: baseElapsed + (Date.now() - started) };
    const status = await input.persist(state);
    if (status !== 'running') {
      end = { kind: 'stopped', state, status };
      stop.abort();
    } else if (!checkpoint.done && input.handOver(batch)) {
      end = { kind: 'budget', state };
      stop.abort();
    }
  };
  for (;;) {
    const from = state.checkpoint ?? initialCheckpoint(state.batchSize);
    try {
      const checkpoint = await runShard({ engine: input.engine, shard: { range: state.range, backup: state.backup }, checkpoint: from, onBatch, signal: stop.signal, ...(input.batchLimits ? { limits: input.batchLimits } : {}) });
      if (end) return end;
      if (input.signal.aborted) throw input.signal.reason;
      return { kind: checkpoint.done ? 'done' : 'budget', state: { ...state, checkpoint } };
    } catch (error) {
      const code = isMigrationError(error) ? error.code : undefined;
      if (batchErrorVerdict(code) !== 'isolate-row' || end) throw error;
      // onBatch keeps `state` at the last committed checkpoint, so a resumed loop starts from there.
      const isolatedEnd = await isolateFailingRow(input, state, onBatch, error, stop.signal);
      if (end) return end;
      if (isolatedEnd) return isolatedEnd;
    }
  }
}

/**
 * Bisects the rejected page by batch size: committed halves advance the checkpoint; when a one-row batch
 * is rejected, that row is the culprit (the first after the checkpoint). Returns undefined when the
 * failure went away (resume normal batches).
 */
async function isolateFailingRow(
  input: WorkInput, start: ShardState, onBatch: (checkpoint: ShardCheckpoint, batch: BatchResult) => Promise<void>, firstError: unknown, stop: AbortSignal,
): Promise<WorkEnd | undefined> {
  let checkpoint = await withCeiling(input.engine, start);
  let isolation = startIsolation(checkpoint.batchSize);
  let lastError = firstError;
  let state = start;
  while (isolation.window > 0) {
    let batch: BatchResult | undefined;
    try {
      batch = await input.engine.runBatch({ range: start.range, after: checkpoint.lastKey, ceiling: checkpoint.ceiling, batchSize: isolation.size, backup: start.backup });
    } catch (error) {
      if (batchErrorVerdict(isMigrationError(error) ? error.code : undefined) !== 'isolate-row') throw error;
      lastError = error;
    }
    if (!batch) {
      if (isolated(isolation, false)) return failedAt(state, checkpoint, lastError);
      isolation = nextIsolation(isolation, false);
      continue;
    }
    checkpoint = advanceCheckpoint(checkpoint, batch, checkpoint.batchSize);
    await onBatch(checkpoint, batch);
    state = { ...state, checkpoint };
    if (batch.done) return { kind: 'done', state };
    if (stop.aborted) return { kind: 'budget', state };
    isolation = nextIsolation(isolation, true);
  }
  return undefined;
}

function failedAt(state: ShardState, checkpoint: ShardCheckpoint, error: unknown): WorkEnd {
  const reported = keyOfError(error);
  const failure: ShardFailure = {
    error: databaseWords(error), key: reported ?? checkpoint.lastKey, keyKnown: reported !== undefined, lastKey: checkpoint.lastKey,
  };
  return { kind: 'failed', state: { ...state, checkpoint, failure }, failure };
}

/** The failing row's key when the engine reports it (`MigrationError.key`), else undefined. */
function keyOfError(error: unknown): string | undefined {
  return isMigrationError(error) ? error.key : undefined;
}

/** The checkpoint to bisect from, with the ceiling of an open-ended shard resolved (as runShard does). */
async function withCeiling(engine: MigrationEngine, state: ShardState): Promise<ShardCheckpoint> {
  const checkpoint = state.checkpoint ?? initialCheckpoint(state.batchSize);
  if (checkpoint.ceilingResolved || state.range.end !== null) return { ...checkpoint, ceilingResolved: true };
  return { ...checkpoint, ceiling: await engine.maxKey(state.range), ceilingResolved: true };
}
