/**
 * Reading a run for its page: the same reads and the same fold as `upshift watch` (the run row, the
 * events the functions produced for it from the outbox, the shard steps' checkpoints; cli/src/watch),
 * kept incremental per open run (an outbox cursor), plus what only the page shows: shard rates sampled
 * here, the timeline and the control state. Reads only: nothing here writes to the control store.
 */
import { viewRecentRuns, viewSteps, type StepView } from '@upshift/runtime';
import { applyEvents, applyShardCheckpoints, emptyView, withRunRow, type RunView } from '../../../cli/src/watch/state.ts';
import { parseShardKey, readRun, readRunEvents, rowsOfCheckpoint, type Queryable } from '../../../cli/src/watch/store.ts';
import { runDocument, type ControlState, type RunDocument, type RunRecord } from '../core/run-document.ts';
import { runsDocument, type RunsDocument } from '../core/runs-list.ts';
import { nextShardSamples, type ShardSamples } from '../core/shards.ts';
import { extendTimeline, type TimelineEntry } from '../core/timeline.ts';
import { readControlState } from './control-state.ts';

/** What the dashboard keeps of an open run between two reads. */
export interface RunPageState {
  readonly view: RunView;
  /** The outbox position read up to. */
  readonly seq: number;
  readonly samples: ShardSamples;
  readonly timeline: readonly TimelineEntry[];
}

/** The state of a run nothing was read of yet. */
export function initialRunState(runId: string): RunPageState {
  return { view: emptyView(runId), seq: 0, samples: {}, timeline: [] };
}

/** The live checkpoint of each shard step, as `upshift watch` reads them (rows so far, status). */
function checkpointsOf(steps: readonly StepView[]) {
  return steps.flatMap((row) => {
    const parsed = parseShardKey(row.key);
    return parsed ? [{ ...parsed, ...rowsOfCheckpoint(row.checkpoint), status: row.status }] : [];
  });
}

/** Reads what changed since `state` and returns the new state with the page's document (undefined: no such run). */
export async function readRunPage(db: Queryable, state: RunPageState, now: number, jaegerUrl: string | undefined): Promise<{ state: RunPageState; document: RunDocument } | undefined> {
  const runId = state.view.runId;
  const run = await readRun(db, runId);
  const { events, lastSeq } = await readRunEvents(db, runId, state.seq);
  if (!run && events.length === 0 && state.seq === 0) return undefined;
  const steps = await viewSteps(db, runId, 'shard');
  const control = await readControlState(db, runId);
  const view = withRunRow(applyShardCheckpoints(applyEvents(state.view, events), checkpointsOf(steps), now), run);
  const next: RunPageState = { view, seq: lastSeq, samples: nextShardSamples(state.samples, steps, now), timeline: extendTimeline(state.timeline, events) };
  const record: RunRecord | undefined = run ? { status: run.status, createdAt: run.createdAt.getTime(), ...(run.finishedAt ? { finishedAt: run.finishedAt.getTime() } : {}) } : undefined;
  return { state: next, document: runDocument({ view, run: record, shardSteps: steps, samples: next.samples, timeline: next.timeline, control, jaegerUrl, now }) };
}

/** The runs list: the most recent `limit` runs. */
export async function readRunsList(db: Queryable, now: number, limit = 200): Promise<RunsDocument> {
  return runsDocument(await viewRecentRuns(db, limit), now);
}

export type { ControlState };
