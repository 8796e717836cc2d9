/**
 * What a run page shows, as one JSON document (pure). The run itself is `upshift watch`'s RunView — the
 * same fold of the run's events and checkpoints (cli/src/watch/state.ts), not a second one — plus what
 * only the page shows: the shard table, the event timeline, the control state and the trace link.
 * Every string in it is plain text: the page renders it as text nodes, never as markup.
 */
import { waveLabel } from '../../../cli/src/waves.ts';
import { etaMs, migrationFraction, restoreTotals, rowsPerSecond } from '../../../cli/src/watch/render.ts';
import { rowsOf, type MigrationView, type Outcome, type RunView, type TargetView, type WaveView } from '../../../cli/src/watch/state.ts';
import { countByState, shardRow, sortShardRows, type ShardControl, type ShardRow, type ShardSamples, type ShardStep } from './shards.ts';
import type { TimelineEntry } from './timeline.ts';

/** A run's control state as the page shows it (issue 17's `run.control.applied` state and who asked). */
export interface ControlState {
  readonly paused: boolean;
  readonly pausedAt?: string;
  readonly pausedMs: number;
  readonly throttle?: { readonly rowsPerSecond?: number; readonly batchSize?: number; readonly pauseMs?: number };
  readonly gate?: { readonly wave: number };
  readonly updatedBy?: string;
  readonly updatedAt?: string;
  /** Forward events held until a resume. */
  readonly held: number;
  /** The run's last controls, newest first: what came of each and who asked. */
  readonly history: ReadonlyArray<{ readonly controlId: string; readonly action: string; readonly outcome: string; readonly message: string; readonly requestedBy: string; readonly decidedAt: string }>;
}

/** The stored run row, as far as the page needs it. */
export interface RunRecord {
  readonly status: string;
  readonly createdAt: number;
  readonly finishedAt?: number;
}

/** Everything a run page is made from. */
export interface RunPageInput {
  readonly view: RunView;
  readonly run: RunRecord | undefined;
  readonly shardSteps: readonly ShardStep[];
  readonly samples: ShardSamples;
  readonly timeline: readonly TimelineEntry[];
  readonly control: ControlState | undefined;
  /** The Jaeger UI (JAEGER_UI_URL, else JAEGER_QUERY_URL), for the trace link. */
  readonly jaegerUrl: string | undefined;
  readonly now: number;
}

/** One wave of the grid. */
export interface WaveDocument {
  readonly index: number;
  readonly label: string;
  readonly state: 'pending' | 'done' | 'failed' | 'reverted';
  readonly targets: readonly TargetView[];
}

/** One migration with its shard table. */
export interface MigrationDocument {
  readonly ref: string;
  readonly store: string;
  readonly shardsTotal: number;
  readonly startsAfter: string | null;
  readonly rows: number;
  readonly expectedRows: number | null;
  readonly fraction: number;
  readonly rowsPerSecond: number | null;
  readonly etaMs: number | null;
  /** (time ms, rows/s) between the samples of the fold, for the chart while the run goes on. */
  readonly rates: readonly (readonly [number, number])[];
  readonly shardCounts: Readonly<Record<string, number>>;
  readonly shards: readonly ShardRow[];
  readonly restore: ReturnType<typeof restoreTotals> & { readonly rowsRestored: number } | null;
}

/** The run page's document. */
export interface RunDocument {
  readonly runId: string;
  readonly policyName: string | null;
  readonly status: string | null;
  readonly stage: string;
  readonly percent: number | null;
  readonly message: string | null;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly durationMs: number | null;
  readonly outcome: Outcome | null;
  readonly traceId: string | null;
  readonly traceUrl: string | null;
  readonly waves: readonly WaveDocument[];
  readonly migrations: readonly MigrationDocument[];
  readonly checks: RunView['checks'];
  readonly failures: readonly string[];
  readonly timeline: readonly TimelineEntry[];
  readonly control: ControlState | null;
  /** A frozen run: the wave it stopped at (a retry goes on from it), and its failed shards (each may be retried). */
  readonly frozen: { readonly wave: number | null; readonly failedShards: readonly string[] } | null;
}

/** Most restore findings a page lists per migration (the totals count them all). */
export const findingsShown = 200;

function waveState(wave: WaveView): WaveDocument['state'] {
  if (wave.targets.some((t) => t.state === 'failed')) return 'failed';
  if (wave.targets.length > 0 && wave.targets.every((t) => t.state === 'reverted')) return 'reverted';
  if (wave.targets.length > 0 && wave.targets.every((t) => t.state === 'done')) return 'done';
  return 'pending';
}

/** Rows/s between consecutive samples of the fold. */
export function rateSeries(samples: MigrationView['samples']): Array<readonly [number, number]> {
  const rates: Array<readonly [number, number]> = [];
  for (let i = 1; i < samples.length; i += 1) {
    const [t0, r0] = samples[i - 1] ?? [0, 0];
    const [t1, r1] = samples[i] ?? [0, 0];
    if (t1 > t0) rates.push([t1, Math.max(0, ((r1 - r0) * 1000) / (t1 - t0))]);
  }
  return rates;
}

function migrationDocument(m: MigrationView, input: RunPageInput, control: ShardControl, ended: boolean): MigrationDocument {
  const shards = sortShardRows(input.shardSteps.filter((s) => s.key.split(':').at(-2) === m.ref).map((s) => shardRow(s, input.samples, control)));
  const totals = restoreTotals(m);
  const restored = Object.values(m.shards).filter((s) => s.state === 'restored');
  const rate = ended ? null : control.paused ? 0 : rowsPerSecond(m) ?? null;
  return {
    ref: m.ref, store: m.store, shardsTotal: m.shardsTotal,
    startsAfter: Object.keys(m.shards).length === 0 && m.afterWave !== undefined ? waveLabel(m.afterWave, input.view.waves.length) : null,
    rows: rowsOf(m), expectedRows: m.expectedRows ?? null, fraction: migrationFraction(m),
    rowsPerSecond: rate, etaMs: ended || control.paused ? null : etaMs(m) ?? null, rates: ended ? [] : rateSeries(m.samples),
    shardCounts: countByState(shards), shards,
    restore: restored.length === 0 ? null : { ...totals, findings: totals.findings.slice(0, findingsShown), rowsRestored: restored.reduce((sum, s) => sum + s.rows, 0) },
  };
}

/** The trace link: the Jaeger UI's trace page. */
export function traceUrlOf(jaegerUrl: string | undefined, traceId: string | undefined): string | null {
  if (!jaegerUrl || !traceId || !/^[0-9a-f]{32}$/.test(traceId)) return null;
  return `${jaegerUrl.replace(/\/+$/, '')}/trace/${traceId}`;
}

/** The run page's document. */
export function runDocument(input: RunPageInput): RunDocument {
  const { view, run } = input;
  // The store's row decides (a frozen run that an operator retried runs again); without it, the last event.
  const ended = run ? run.finishedAt !== undefined : view.outcome !== undefined;
  const control: ShardControl = { paused: !ended && input.control?.paused === true, throttled: !ended && input.control?.throttle !== undefined && Object.keys(input.control.throttle).length > 0 };
  const startedAt = view.startedAt ?? run?.createdAt ?? null;
  const endedAt = ended ? run?.finishedAt ?? view.lastEventAt ?? null : null;
  return {
    runId: view.runId, policyName: view.policyName ?? null, status: run?.status ?? null, stage: view.stage,
    percent: view.percent ?? null, message: view.message ?? null, startedAt, endedAt,
    durationMs: startedAt === null ? null : (endedAt ?? input.now) - startedAt,
    outcome: ended ? view.outcome ?? null : null, traceId: view.traceId ?? null, traceUrl: traceUrlOf(input.jaegerUrl, view.traceId),
    waves: view.waves.map((w) => ({ index: w.index, label: waveLabel(w.index, view.waves.length), state: waveState(w), targets: w.targets })),
    migrations: view.migrations.map((m) => migrationDocument(m, input, control, ended)),
    checks: view.checks, failures: view.failures, timeline: input.timeline, control: input.control ?? null,
    frozen: ended && run?.status === 'failed' && view.outcome?.frozen === true ? frozenDocument(view, input) : null,
  };
}

/** Where a frozen run stopped: the first wave not done (when it froze in its rollout), and the failed shards. */
function frozenDocument(view: RunView, input: RunPageInput): NonNullable<RunDocument['frozen']> {
  const stoppedAt = view.waves.find((w) => waveState(w) !== 'done');
  const failedShards = input.shardSteps.filter((s) => s.status === 'failed').map((s) => s.key);
  return { wave: stoppedAt && view.stage === 'rollout' ? stoppedAt.index : null, failedShards };
}
