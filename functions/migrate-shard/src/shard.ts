/**
 * `shard.requested`: migrate one shard under its lease for at most the budget (each batch's checkpoint
 * committed on its own, no handling transaction open), then decide: `shard.completed`, `shard.failed` or
 * a continuation `shard.requested`, written together with the final step status and the lease release.
 * Between batches it honours the run's controls (`run-control.ts`): a pause hands the shard over to a
 * continuation that the paused run holds, a throttle caps and paces the batches.
 */
import { trace } from '@opentelemetry/api';
import type { DeepReadonly, EventData, UpshiftEvent } from '@upshift/events';
import { acquireLease, releaseLease, saveCheckpoint, startHeartbeat, UpshiftError } from '@upshift/runtime';
import type { Decision, Lease, StepKey } from '@upshift/runtime';
import { progressDue, shouldHandOver } from './core/budget.ts';
import { failureReason } from './core/failure.ts';
import { isSettled, plannedShard } from './core/shard-state.ts';
import type { ShardState } from './core/shard-state.ts';
import { retryOrMessage } from './adapters/engines.ts';
import { claimShard, commitCheckpoint, ensureShard, shardStep } from './adapters/steps.ts';
import type { MigrateContext, MigrateDeps } from './context.ts';
import { shardCount } from './core/progress.ts';
import { countFinished, progressOf } from './progress.ts';
import { pausedByOperator, ShardControls } from './run-control.ts';
import { shardStoreThrottle } from './shard-throttle.ts';
import type { ThrottleState } from './core/throttle.ts';
import { workOnShard } from './shard-work.ts';
import type { WorkEnd } from './shard-work.ts';

type ShardRequest = DeepReadonly<EventData<'shard.requested'>>;

/** The lease that makes one worker at a time work on a shard (restores take it too). */
export function shardLeaseName(shardId: string): string {
  return `shard:${shardId}`;
}

/** Handles one `shard.requested` (a first request or a continuation). */
export async function migrateShard(ctx: MigrateContext, event: UpshiftEvent<'shard.requested'>, deps: MigrateDeps): Promise<void> {
  const data = event.data;
  const step = shardStep(data.runId, data.shardId);
  const stored = await ensureShard(ctx.store, step, plannedFrom(data));
  if (isSettled(stored.status)) {
    ctx.log.info({ shardId: data.shardId, status: stored.status }, 'shard already settled: nothing to do');
    return;
  }
  const checksum = (await deps.planned.of(ctx.store, data.runId)).checksums.get(data.migration);
  const ttlMs = ctx.config.UPSHIFT_SHARD_LEASE_TTL_MS;
  const lease = await acquireLease(ctx.store, shardLeaseName(data.shardId), deps.holder, ttlMs);
  let end: WorkEnd;
  try {
    const state = { ...(stored.state ?? plannedFrom(data)), hops: (stored.state?.hops ?? 0) + 1 };
    const status = await claimShard(ctx.store, step, lease, state);
    if (status !== 'running') end = { kind: 'stopped', state, status };
    else end = await workUnderLease(ctx, event, deps, { step, lease, state, checksum });
  } catch (error) {
    await releaseLease(ctx.store, lease).catch(() => undefined);
    throw error;
  }
  await ctx.decide((d) => endInvocation(ctx, d, data, step, lease, end));
}

function plannedFrom(data: ShardRequest): ShardState {
  return plannedShard({
    migration: data.migration, index: data.index, shards: data.shards, range: { ...data.range },
    batchSize: data.batchSize, backup: data.backup, estimatedRows: 0,
  });
}

/** The shard being worked on: its step, its lease, its state, and the catalog checksum its run planned. */
interface ShardWork {
  step: StepKey;
  lease: Lease;
  state: ShardState;
  checksum: string | undefined;
}

/**
 * Heartbeats the lease while the engine works; a permanent engine error before any batch fails the shard
 * (among them a catalog entry that is no longer the one the run planned: nothing of it runs).
 */
async function workUnderLease(ctx: MigrateContext, event: UpshiftEvent<'shard.requested'>, deps: MigrateDeps, work: ShardWork): Promise<WorkEnd> {
  const { step, lease, state } = work;
  const lost = new AbortController();
  const ttlMs = ctx.config.UPSHIFT_SHARD_LEASE_TTL_MS;
  const heartbeat = startHeartbeat(ctx.store, lease, { ttlMs, onLost: (error) => lost.abort(error) });
  const startedAt = Date.now();
  let progressAt: number | null = state.progressAt ?? null;
  let counted = state.counted; // what this shard has counted into the run's progress tally (saved with each report)
  const controls = new ShardControls({
    store: ctx.store, runId: event.data.runId, signal: lost.signal, until: startedAt + ctx.config.UPSHIFT_SHARD_BUDGET_MS, scanned: state.checkpoint?.scanned ?? 0,
  });
  try {
    const gate = await controls.look(); // a paused (or ended) run starts no batch
    if (gate.kind !== 'go') return { kind: 'stopped', state, status: gate.kind === 'pause' ? pausedByOperator : gate.why };
    let latest = state;
    let heldReports = 0;
    // Commits a checkpoint (fenced), with a progress report when one is due or forced (the store throttle holding).
    const commit = async (next: ShardState, throttle: ThrottleState | undefined, force: boolean): Promise<string> => {
      const due = force || progressDue(progressAt, Date.now(), ctx.config.UPSHIFT_PROGRESS_INTERVAL_MS);
      if (due) progressAt = Date.now();
      const saved = { ...next, progressAt: progressAt ?? undefined, counted: due ? shardCount(next, false) : counted, throttle };
      const key = `${event.data.shardId}:${next.checkpoint?.batches ?? 0}${force ? `:held${++heldReports}` : ''}`;
      const status = await commitCheckpoint(ctx.store, step, lease, saved, due ? async (tx) => {
        const progress = await progressOf(tx, event.data.runId, event.data.shardId, saved, counted);
        await ctx.emitIn(tx, 'run.progress', progress, { key });
      } : undefined);
      counted = saved.counted;
      latest = saved;
      return status;
    };
    const store = await shardStoreThrottle(ctx, deps, { ...event.data, checksum: work.checksum, signal: lost.signal, until: startedAt + ctx.config.UPSHIFT_SHARD_BUDGET_MS },
      async (held) => { await commit(latest, held, true); });
    const engine = store.throttle.wrap(controls.throttledEngine(deps.engines.engine(state.migration, work.checksum)));
    const end = await workOnShard({
      engine, state, signal: lost.signal, batchLimits: store.batchLimits,
      handOver: (batch) => shouldHandOver({ startedAt, now: Date.now(), budgetMs: ctx.config.UPSHIFT_SHARD_BUDGET_MS, lastBatchMs: batch.durationMs }),
      persist: async (next) => {
        const status = await commit(next, store.throttle.state, false);
        // Between two batches: the operator's pause, stop or throttle (one read, then pacing).
        return status === 'running' && next.checkpoint?.done !== true ? controls.afterBatch(next.checkpoint?.scanned ?? 0) : status;
      },
    });
    return { ...end, state: { ...end.state, counted } };
  } catch (error) {
    if (lost.signal.aborted) throw lost.signal.reason;
    const message = retryOrMessage(error, `${state.migration}`);
    return { kind: 'failed', state: { ...state, counted }, failure: { error: message, key: state.checkpoint?.lastKey ?? null, keyKnown: false, lastKey: state.checkpoint?.lastKey ?? null } };
  } finally {
    await heartbeat.stop();
  }
}

/**
 * Ends the invocation in the handling transaction: the step's status (fenced), the lease released and
 * the event that follows commit together — a crash before commit leaves the lease to expire and the
 * redelivery resumes from the last batch checkpoint.
 */
async function endInvocation(ctx: MigrateContext, d: Decision, data: ShardRequest, step: StepKey, lease: Lease, end: WorkEnd): Promise<void> {
  const { runId, shardId, migration } = data;
  const checkpoint = end.state.checkpoint;
  // The handling span of this delivery: one per shard hop in the run's trace, with what the hop did.
  trace.getActiveSpan()?.setAttributes({
    'upshift.shard.id': shardId, 'upshift.shard.outcome': end.kind,
    'upshift.shard.batches': checkpoint?.batches ?? 0, 'upshift.shard.rows_changed': checkpoint?.changed ?? 0,
  });
  if (end.kind === 'stopped' && end.status === pausedByOperator) {
    // Paused by the operator: the checkpoint stays, and the continuation is held until the run resumes.
    await saveCheckpoint(d.tx, step, { checkpoint: end.state }, lease);
    ctx.log.info({ shardId, batches: checkpoint?.batches ?? 0 }, 'shard paused: the run is paused');
    d.emit('shard.requested', { ...data, range: { ...data.range } }, { key: shardId });
  } else if (end.kind === 'stopped') {
    ctx.log.info({ shardId, status: end.status }, 'shard stopped: its status changed under it');
  } else if (end.kind === 'budget') {
    await saveCheckpoint(d.tx, step, { checkpoint: end.state }, lease);
    d.emit('shard.requested', { ...data, range: { ...data.range } }, { key: shardId });
  } else if (end.kind === 'done') {
    await saveCheckpoint(d.tx, step, { status: 'completed', checkpoint: await countFinished(d.tx, runId, end.state) }, lease);
    d.emit('shard.completed', { runId, shardId, migration, rowsMigrated: checkpoint?.changed ?? 0, batches: checkpoint?.batches ?? 0, durationMs: Math.round(end.state.elapsedMs) }, { key: shardId });
  } else {
    await saveCheckpoint(d.tx, step, { status: 'failed', checkpoint: await countFinished(d.tx, runId, end.state) }, lease);
    ctx.log.warn({ shardId, failure: end.failure }, 'shard failed permanently');
    d.emit('shard.failed', { runId, shardId, migration, reason: failureReason(shardId, end.failure), rowsMigrated: checkpoint?.changed ?? 0 }, { key: shardId });
  }
  if (!(await releaseLease(d.tx, lease))) throw new UpshiftError('STALE_FENCING_TOKEN', `lease of shard ${shardId} was lost`, { context: { shardId } });
}
