/**
 * The state of a run as `upshift watch` shows it, folded from its events (lifecycle events from Kafka,
 * and every event of the run replayed from the control store's outbox) plus live shard checkpoints.
 * Pure: no I/O, no clock — times come from the events or from the caller.
 */
import { isTerminal, nameOf, type AnyUpshiftEvent, type EventData, type RestoreFinding } from '@upshift/events';
import { waveLabel } from '../waves.ts';
import { outcomeFromStatus, outcomeOf, type Outcome } from './outcome.ts';

export { outcomeFromStatus, type Outcome } from './outcome.ts';

/** How far one (service × cluster) target of a wave is. */
export type TargetState = 'pending' | 'done' | 'failed' | 'reverted';

/** One workload target of a wave. */
export interface TargetView {
  readonly service: string;
  readonly cluster: string;
  readonly image: string;
  readonly previousImage: string;
  readonly state: TargetState;
  readonly reason?: string;
}

/** One wave of the plan. */
export interface WaveView {
  readonly index: number;
  readonly targets: readonly TargetView[];
}

/** One shard as last seen. */
export interface ShardView {
  readonly state: 'running' | 'completed' | 'failed' | 'restored';
  readonly rows: number;
  /** What its restore could not simply put back (`shard.restore.done`). */
  readonly restore?: RestoreFindings;
}

/** A shard restore's findings: application writes kept or overridden, rows created by the new version. */
export interface RestoreFindings {
  readonly conflicts: number;
  readonly created: number;
  readonly createdReverted: number;
  readonly findings: readonly RestoreFinding[];
}

/** One migration of the plan with its shards and throughput samples. */
export interface MigrationView {
  readonly ref: string;
  readonly store: string;
  readonly shardsTotal: number;
  /** Shards by index, as far as they are known. */
  readonly shards: Readonly<Record<string, ShardView>>;
  /** (time ms, rows migrated) samples, oldest first: rows/s and ETA come from these. */
  readonly samples: readonly (readonly [number, number])[];
  /** Expected rows/documents when the caller knows them (e.g. the demo seeded them). */
  readonly expectedRows?: number;
  /** The wave (0-based) after which it starts, as planned. */
  readonly afterWave?: number;
}

/** A verify check and its verdict. */
export interface CheckView {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
}

/** Everything the watch view shows about one run. */
export interface RunView {
  readonly runId: string;
  readonly policyName?: string;
  readonly stage: string;
  readonly percent?: number;
  readonly message?: string;
  readonly startedAt?: number;
  readonly lastEventAt?: number;
  readonly waves: readonly WaveView[];
  readonly migrations: readonly MigrationView[];
  readonly checks: readonly CheckView[];
  readonly failures: readonly string[];
  readonly outcome?: Outcome;
  readonly traceId?: string;
  /** `source id` of every event already applied (events arrive twice: Kafka and the outbox). */
  readonly seen: readonly string[];
}

/** The view of a run nothing is known about yet. */
export function emptyView(runId: string): RunView {
  return { runId, stage: 'requested', waves: [], migrations: [], checks: [], failures: [], seen: [] };
}

/** Applies one event of the run; events of other runs and repeats (same source and id) change nothing. */
export function applyEvent(view: RunView, event: AnyUpshiftEvent): RunView {
  const data = event.data as { runId?: string };
  if (data.runId !== view.runId) return view;
  const key = `${event.source} ${event.id}`;
  if (seenSet(view.seen).has(key)) return view;
  const at = Date.parse(event.time);
  const base: RunView = {
    ...view,
    seen: withSeen(view.seen, key),
    lastEventAt: Math.max(view.lastEventAt ?? at, at),
    ...(view.traceId === undefined && event.traceparent ? { traceId: event.traceparent.split('-')[1] ?? '' } : {}),
  };
  const next = withoutStaleProgress(view, reduce(base, event, at), event);
  return isTerminal(event) && next.outcome === undefined ? { ...next, outcome: outcomeOf(event) } : next;
}

/**
 * A stage entered through another event than a progress report (e.g. the next wave after a migration):
 * the last report's percent, and its message unless the event set a new one, belong to the stage left.
 */
function withoutStaleProgress(before: RunView, after: RunView, event: AnyUpshiftEvent): RunView {
  if (after.stage === before.stage || nameOf(event) === 'run.progress') return after;
  const { percent: _percent, message, ...rest } = after;
  return message === undefined || message === before.message ? rest : { ...rest, message };
}

/** Applies events in order. */
export function applyEvents(view: RunView, events: readonly AnyUpshiftEvent[]): RunView {
  return inBatch(() => events.reduce(applyEvent, view));
}

/**
 * Speed for runs of thousands of shards (status of a 10,000-shard run folds ~30,000 events): within
 * one batch (`applyEvents`, `applyShardCheckpoints`) the `seen` list and the shard maps the batch made
 * itself are changed in place instead of copied per event (no caller holds them before the batch
 * returns); `seen` is looked up in a Set and a migration's rows are summed once per shard map, then
 * kept up to date. The views a batch returns are never changed afterwards.
 */
let transient: WeakSet<object> | undefined;
const seenSets = new WeakMap<readonly string[], Set<string>>();
const rowSums = new WeakMap<Readonly<Record<string, ShardView>>, number>();

function inBatch<T>(work: () => T): T {
  const outer = transient;
  transient = outer ?? new WeakSet();
  try {
    return work();
  } finally {
    transient = outer;
  }
}

function seenSet(seen: readonly string[]): Set<string> {
  let set = seenSets.get(seen);
  if (!set) {
    set = new Set(seen);
    seenSets.set(seen, set);
  }
  return set;
}

function withSeen(seen: readonly string[], key: string): readonly string[] {
  if (transient?.has(seen)) {
    (seen as string[]).push(key);
    seenSet(seen).add(key);
    return seen;
  }
  const copy = [...seen, key];
  transient?.add(copy);
  seenSets.set(copy, new Set(copy));
  return copy;
}

/** The shard map with `index` set to `shard` (in place when this batch made the map). */
function withShard(shards: Readonly<Record<string, ShardView>>, index: string, shard: ShardView): Readonly<Record<string, ShardView>> {
  const rowsOfShard = (s: ShardView | undefined) => (s === undefined || s.state === 'restored' ? 0 : s.rows);
  const sum = rowSums.get(shards);
  if (transient?.has(shards)) {
    if (sum !== undefined) rowSums.set(shards, sum - rowsOfShard(shards[index]) + rowsOfShard(shard));
    (shards as Record<string, ShardView>)[index] = shard;
    return shards;
  }
  const copy = { ...shards, [index]: shard };
  transient?.add(copy);
  if (sum !== undefined) rowSums.set(copy, sum - rowsOfShard(shards[index]) + rowsOfShard(shard));
  return copy;
}

function reduce(view: RunView, event: AnyUpshiftEvent, at: number): RunView {
  switch (nameOf(event)) {
    case 'upgrade.requested': return { ...view, startedAt: view.startedAt ?? at };
    case 'upgrade.planned': return planned(view, event.data as EventData<'upgrade.planned'>, at);
    case 'rollout.wave.requested': return { ...view, stage: 'rollout' };
    case 'rollout.wave.completed': return waveCompleted(view, event.data as EventData<'rollout.wave.completed'>);
    case 'rollout.wave.failed': return waveFailed(view, event.data as EventData<'rollout.wave.failed'>);
    case 'migration.expand.requested': return { ...view, stage: 'expand' };
    case 'migration.requested': return { ...view, stage: 'migrate' };
    case 'shard.completed': return shardSeen(view, event.data as EventData<'shard.completed'>, 'completed', at);
    case 'shard.failed': return shardFailed(view, event.data as EventData<'shard.failed'>, at);
    case 'shard.restore.done': return shardRestored(view, event.data as EventData<'shard.restore.done'>);
    case 'verify.requested': return { ...view, stage: 'verify' };
    case 'verify.results': return verified(view, event.data as EventData<'verify.results'>);
    case 'rollback.requested': return rollbackStarted(view, event.data as EventData<'rollback.requested'>);
    case 'image.revert.requested': return { ...view, stage: 'rollback' };
    case 'migration.contract.requested': return { ...view, stage: 'contract' };
    case 'run.progress': return progressed(view, event.data as EventData<'run.progress'>);
    case 'upgrade.rolled-back': return rolledBack(view, event.data as EventData<'upgrade.rolled-back'>);
    case 'upgrade.failed': return failed(view, event.data as EventData<'upgrade.failed'>);
    case 'upgrade.rejected': return rejected(view, event.data as EventData<'upgrade.rejected'>);
    default: return view;
  }
}

function planned(view: RunView, data: EventData<'upgrade.planned'>, at: number): RunView {
  const waves = data.waves.map((w) => ({
    index: w.index,
    targets: w.targets.map((t): TargetView => ({ service: t.service, cluster: t.cluster, image: t.image, previousImage: t.previousImage, state: 'pending' })),
  }));
  const known = new Map(view.migrations.map((m) => [m.ref, m]));
  const migrations = data.migrations.map((m): MigrationView => ({
    ...(known.get(m.ref) ?? { shards: {}, samples: [] }), ref: m.ref, store: m.store, shardsTotal: m.shards,
    ...(m.afterWave === undefined ? {} : { afterWave: m.afterWave }),
  }));
  return { ...view, policyName: data.policyName, stage: data.dryRun ? 'plan' : view.stage === 'requested' ? 'plan' : view.stage, startedAt: view.startedAt ?? at, waves, migrations };
}

function setTargets(view: RunView, wave: number, update: (t: TargetView) => TargetView): RunView {
  return { ...view, waves: view.waves.map((w) => (w.index === wave ? { ...w, targets: w.targets.map(update) } : w)) };
}

/** Stages a completed wave does not leave: the run's end game. */
const afterRollout = new Set(['verify', 'contract', 'rollback']);

function waveCompleted(view: RunView, data: EventData<'rollout.wave.completed'>): RunView {
  const next = setTargets(view, data.wave, (t) => (t.state === 'reverted' ? t : { ...t, state: 'done' }));
  // A wave after a migration that started early (its `after:` services) brings the run back to rollout.
  return { ...next, stage: afterRollout.has(next.stage) ? next.stage : 'rollout' };
}

function waveFailed(view: RunView, data: EventData<'rollout.wave.failed'>): RunView {
  const reasons = new Map(data.targets.map((t) => [`${t.service}@${t.cluster}`, t.reason]));
  const next = setTargets(view, data.wave, (t) => {
    const reason = reasons.get(`${t.service}@${t.cluster}`);
    return reason === undefined ? t : { ...t, state: 'failed', reason };
  });
  return { ...next, stage: 'rollout', failures: [...next.failures, `${waveLabel(data.wave, next.waves.length)}: ${data.reason}`] };
}

function withMigration(view: RunView, ref: string, update: (m: MigrationView) => MigrationView): RunView {
  const exists = view.migrations.some((m) => m.ref === ref);
  const migrations = exists ? view.migrations : [...view.migrations, { ref, store: '?', shardsTotal: 0, shards: {}, samples: [] }];
  return { ...view, migrations: migrations.map((m) => (m.ref === ref ? update(m) : m)) };
}

/** The index part of a shard id `<runId>:<ref>:<index>`. */
export function shardIndexOf(shardId: string): string {
  return shardId.slice(shardId.lastIndexOf(':') + 1);
}

/** Rows migrated so far by a migration (sum over its shards). */
export function rowsOf(migration: MigrationView): number {
  const known = rowSums.get(migration.shards);
  if (known !== undefined) return known;
  const sum = Object.values(migration.shards).reduce((total, s) => total + (s.state === 'restored' ? 0 : s.rows), 0);
  rowSums.set(migration.shards, sum);
  return sum;
}

function sampled(m: MigrationView, at: number): MigrationView {
  const last = m.samples.at(-1);
  if (last && last[0] >= at) return m;
  const rows = rowsOf(m);
  return { ...m, samples: [...m.samples, [at, rows] as const].slice(-30) };
}

function shardSeen(view: RunView, data: { shardId: string; migration: string; rowsMigrated: number }, state: ShardView['state'], at: number): RunView {
  const index = shardIndexOf(data.shardId);
  const next = withMigration(view, data.migration, (m) => {
    const old = m.shards[index];
    if (old?.state === 'restored') return m;
    return sampled({ ...m, shards: withShard(m.shards, index, { state, rows: Math.max(data.rowsMigrated, old?.rows ?? 0) }) }, at);
  });
  return { ...next, stage: next.stage === 'rollback' || next.stage === 'verify' ? next.stage : 'migrate' };
}

function shardFailed(view: RunView, data: EventData<'shard.failed'>, at: number): RunView {
  const next = shardSeen(view, data, 'failed', at);
  return { ...next, failures: [...next.failures, `shard ${data.migration} #${shardIndexOf(data.shardId)}: ${data.reason}`] };
}

function shardRestored(view: RunView, data: EventData<'shard.restore.done'>): RunView {
  const index = shardIndexOf(data.shardId);
  // Findings come with the counts of a guarded restore (absent from the events of an older migrate-shard).
  const restore: RestoreFindings | undefined = data.conflicts === undefined ? undefined
    : { conflicts: data.conflicts, created: data.created ?? 0, createdReverted: data.createdReverted ?? 0, findings: data.findings ?? [] };
  const next = withMigration(view, data.migration, (m) => ({ ...m, shards: withShard(m.shards, index, { state: 'restored', rows: data.rowsRestored, ...(restore ? { restore } : {}) }) }));
  const failure = data.outcome === 'failed' ? [`restore of ${data.migration} #${index} failed: ${data.reason ?? 'no reason given'}`] : [];
  return { ...next, stage: 'rollback', failures: [...next.failures, ...failure] };
}

/**
 * Live shard checkpoints from the control store (rows so far, status): merged so a running shard's
 * count only grows and a final state from an event is kept.
 */
export function applyShardCheckpoints(view: RunView, shards: readonly { migration: string; index: string; rows: number; status: string; estimatedRows?: number }[], at: number): RunView {
  return inBatch(() => foldShardCheckpoints(view, shards, at));
}

function foldShardCheckpoints(view: RunView, shards: readonly { migration: string; index: string; rows: number; status: string; estimatedRows?: number }[], at: number): RunView {
  let next = view;
  for (const shard of shards) {
    next = withMigration(next, shard.migration, (m) => {
      const old = m.shards[shard.index];
      if (old && old.state !== 'running') return m;
      return { ...m, shards: withShard(m.shards, shard.index, { state: shardStateOf(shard.status), rows: Math.max(shard.rows, old?.rows ?? 0) }) };
    });
  }
  next = withEstimates(next, shards);
  return { ...next, migrations: next.migrations.map((m) => sampled(m, at)) };
}

function shardStateOf(status: string): ShardView['state'] {
  if (status === 'completed' || status === 'failed' || status === 'restored') return status;
  return 'running';
}

/** Expected rows per migration from the shards' own estimates, unless the caller gave exact totals. */
function withEstimates(view: RunView, shards: readonly { migration: string; estimatedRows?: number }[]): RunView {
  const sums = new Map<string, number>();
  for (const s of shards) sums.set(s.migration, (sums.get(s.migration) ?? 0) + (s.estimatedRows ?? 0));
  return { ...view, migrations: view.migrations.map((m) => (m.expectedRows || !sums.get(m.ref) ? m : { ...m, expectedRows: sums.get(m.ref) })) };
}

/** Records how many rows/documents each migration is expected to change (ETA and bar by rows). */
export function withExpectedRows(view: RunView, expected: Readonly<Record<string, number>>): RunView {
  let next = view;
  for (const [ref, rows] of Object.entries(expected)) next = withMigration(next, ref, (m) => ({ ...m, expectedRows: rows }));
  return next;
}

function verified(view: RunView, data: EventData<'verify.results'>): RunView {
  const checks = data.checks.map((c) => ({ name: c.name, passed: c.passed, message: c.message }));
  const failures = checks.filter((c) => !c.passed).map((c) => `check ${c.name}: ${c.message}`);
  return { ...view, stage: 'verify', checks, failures: [...view.failures, ...failures] };
}

function rollbackStarted(view: RunView, data: EventData<'rollback.requested'>): RunView {
  return { ...view, stage: 'rollback', message: `rolling back: ${data.reason}` };
}

function progressed(view: RunView, data: EventData<'run.progress'>): RunView {
  return { ...view, stage: data.stage, percent: data.percent, ...(data.message ? { message: data.message } : {}) };
}

function rolledBack(view: RunView, _data: EventData<'upgrade.rolled-back'>): RunView {
  const reverted = view.waves.map((w) => ({ ...w, targets: w.targets.map((t) => (t.state === 'pending' ? t : { ...t, state: 'reverted' as const })) }));
  return { ...view, stage: 'rollback', waves: reverted };
}

function failed(view: RunView, data: EventData<'upgrade.failed'>): RunView {
  return { ...view, stage: data.stage, failures: [...view.failures, `${data.stage}: ${data.reason}${data.frozen ? ' (frozen as is)' : ''}`] };
}

function rejected(view: RunView, data: EventData<'upgrade.rejected'>): RunView {
  const problems = data.problems.map((p) => `${p.path}: ${p.message}`);
  return { ...view, stage: 'plan', ...(data.policyName ? { policyName: data.policyName } : {}), failures: [...view.failures, ...problems] };
}

/** The run row's facts a view lacks when its events did not say them (a run ended before anyone looked, …). */
export function withRunRow(view: RunView, run: { readonly createdAt: Date; readonly policyName: string | undefined; readonly status: string; readonly finishedAt: Date | undefined } | undefined): RunView {
  let next = view;
  if (run && next.startedAt === undefined) next = { ...next, startedAt: run.createdAt.getTime() };
  if (run?.policyName && next.policyName === undefined) next = { ...next, policyName: run.policyName };
  if (run?.finishedAt && next.outcome === undefined) {
    const outcome = outcomeFromStatus(run.status);
    if (outcome) next = { ...next, outcome, lastEventAt: Math.max(next.lastEventAt ?? 0, run.finishedAt.getTime()) };
  }
  return next;
}
