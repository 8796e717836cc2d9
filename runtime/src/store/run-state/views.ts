/**
 * Read-only views of the control store for people (`upshift status`, `watch`, the demo): a run's row,
 * the events the functions produced for it (the outbox keeps lifecycle and work events alike) and its
 * steps. Nothing here writes.
 */
import type { RunPlan, Throttle } from '@upshift/events';
import { pausedSoFar } from '../../lifecycle/controls.ts';
import type { Queryable } from '../leases.ts';
import { controlHistory, heldWorkOf, readRunControl } from './controls.ts';

/** A run as `upshift status` shows it. */
export interface RunView {
  readonly id: string;
  readonly status: string;
  readonly policyName: string | undefined;
  readonly plan: RunPlan | undefined;
  readonly createdAt: Date;
  readonly finishedAt: Date | undefined;
}

/** A step as `upshift status` shows it. */
export interface StepView {
  readonly kind: string;
  readonly key: string;
  readonly status: string;
  readonly attempt: number;
  readonly checkpoint: unknown;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** Whether the control-store schema exists in this database. */
export async function hasControlStore(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(`SELECT to_regclass('upshift.runs') IS NOT NULL AS ok`);
  return rows[0]?.ok === true;
}

interface RunRecord { id: string; status: string; plan: RunPlan | null; request: { policy?: { metadata?: { name?: string } } } | null; created_at: Date; finished_at: Date | null }

const runColumns = 'id, status, plan, request, created_at, finished_at';

function toRunView(row: RunRecord): RunView {
  return {
    id: row.id, status: row.status, plan: row.plan ?? undefined, createdAt: row.created_at, finishedAt: row.finished_at ?? undefined,
    policyName: row.plan?.policyName ?? row.request?.policy?.metadata?.name,
  };
}

/** The run, or undefined when the control store has not seen it (yet). */
export async function viewRun(db: Queryable, runId: string): Promise<RunView | undefined> {
  const { rows } = await db.query<RunRecord>(`SELECT ${runColumns} FROM upshift.runs WHERE id = $1`, [runId]);
  return rows[0] ? toRunView(rows[0]) : undefined;
}

/** The most recent runs, newest first. */
export async function viewRecentRuns(db: Queryable, limit: number): Promise<RunView[]> {
  const { rows } = await db.query<RunRecord>(`SELECT ${runColumns} FROM upshift.runs ORDER BY created_at DESC, id DESC LIMIT $1`, [limit]);
  return rows.map(toRunView);
}

/**
 * Event types one per shard that a run's summary does without: requests, completions of shards whose
 * step says completed (with its rows), and all but the last progress report. Failures stay (their reasons).
 */
const perShardTypes = { progress: 'dev.upshift.run.progress.v1', requested: 'dev.upshift.shard.requested.v1', completed: 'dev.upshift.shard.completed.v1' } as const;

/**
 * The events produced for the run after outbox position `afterSeq`, in order, as stored. The partition
 * key is the run id, or the shard id `<runId>:…`. `summary` leaves out what grows with the shards and
 * a summary does not need: every `shard.requested`, each `shard.completed` whose shard step is
 * completed (pair it with the shard steps, `viewShardRows`), and every `run.progress` but the latest.
 */
export async function viewRunEvents(db: Queryable, runId: string, afterSeq = 0, options: { summary?: boolean } = {}): Promise<Array<{ seq: number; event: unknown }>> {
  const summary = options.summary === true;
  const { rows } = await db.query<{ seq: string; event: unknown }>(
    `WITH run_events AS (
       SELECT seq, type, partition_key FROM upshift.outbox WHERE seq > $2 AND (partition_key = $1 OR partition_key LIKE $3)
     ), latest AS (SELECT max(seq) AS seq FROM run_events WHERE type = $5)
     SELECT o.seq, o.event FROM run_events r JOIN upshift.outbox o ON o.seq = r.seq
      WHERE NOT $4 OR (r.type <> $6 AND (r.type <> $5 OR r.seq = (SELECT seq FROM latest))
        AND NOT (r.type = $7 AND EXISTS (SELECT 1 FROM upshift.steps s
          WHERE s.run_id = $1 AND s.kind = 'shard' AND s.key = r.partition_key AND s.status = 'completed')))
      ORDER BY o.seq`,
    [runId, afterSeq, `${runId.replace(/[\\%_]/g, '\\$&')}:%`, summary, perShardTypes.progress, perShardTypes.requested, perShardTypes.completed],
  );
  return rows.map((row) => ({ seq: Number(row.seq), event: row.event }));
}

/** The steps of a run (every kind, or one; or every kind but `exceptKinds`), in a stable order. */
export async function viewSteps(db: Queryable, runId: string, kind?: string, options: { exceptKinds?: readonly string[] } = {}): Promise<StepView[]> {
  const { rows } = await db.query<{ kind: string; key: string; status: string; attempt: number; checkpoint: unknown; started_at: Date | null; finished_at: Date | null }>(
    `SELECT kind, key, status, attempt, checkpoint, started_at, finished_at FROM upshift.steps
      WHERE run_id = $1 AND ($2::text IS NULL OR kind = $2) AND NOT (kind = ANY($3::text[]))
      ORDER BY kind, length(key), key`, [runId, kind ?? null, options.exceptKinds ?? []]);
  return rows.map((r) => ({ kind: r.kind, key: r.key, status: r.status, attempt: r.attempt, checkpoint: r.checkpoint, startedAt: r.started_at, finishedAt: r.finished_at }));
}

/**
 * A run's shard steps with only what a progress view reads of their checkpoints (rows changed, rows
 * expected), cut down in the database: a 10,000-shard run sends 10,000 small rows, not 10,000 states.
 * The checkpoint keeps its shape: migrate-shard's `{ checkpoint: { changed }, estimatedRows }`, or a
 * bare `{ changed | rowsMigrated }`.
 */
export async function viewShardRows(db: Queryable, runId: string): Promise<StepView[]> {
  const { rows } = await db.query<{ key: string; status: string; attempt: number; checkpoint: unknown; started_at: Date | null; finished_at: Date | null }>(
    `SELECT key, status, attempt, started_at, finished_at,
            CASE WHEN jsonb_typeof(checkpoint->'checkpoint') = 'object'
                 THEN jsonb_build_object('checkpoint', jsonb_build_object('changed', checkpoint->'checkpoint'->'changed'), 'estimatedRows', checkpoint->'estimatedRows')
                 WHEN jsonb_typeof(checkpoint) = 'object'
                 THEN jsonb_build_object('changed', checkpoint->'changed', 'rowsMigrated', checkpoint->'rowsMigrated', 'estimatedRows', checkpoint->'estimatedRows')
            END AS checkpoint
       FROM upshift.steps WHERE run_id = $1 AND kind = 'shard' ORDER BY length(key), key`, [runId]);
  return rows.map((r) => ({ kind: 'shard', key: r.key, status: r.status, attempt: r.attempt, checkpoint: r.checkpoint, startedAt: r.started_at, finishedAt: r.finished_at }));
}

/** Step kinds there is one of per shard: summarised by `viewShardSummary` rather than listed. */
export const perShardStepKinds: readonly string[] = ['shard', 'fanin', 'restored'];

/** A run's per-shard steps counted by kind and status, with the failed ones and the longest running ones named. */
export interface ShardSummaryView {
  readonly counts: ReadonlyArray<{ kind: string; status: string; count: number }>;
  /** Failed shards (at most `listed`), in key order. */
  readonly failed: readonly StepView[];
  /** Shards running longest (at most `listed`), longest first. */
  readonly slowest: readonly StepView[];
}

/** The summary of a run's per-shard steps: one grouped count and two short lists, whatever the number of shards. */
export async function viewShardSummary(db: Queryable, runId: string, listed = 10): Promise<ShardSummaryView> {
  const { rows: counts } = await db.query<{ kind: string; status: string; count: string }>(
    `SELECT kind, status, count(*) AS count FROM upshift.steps WHERE run_id = $1 AND kind = ANY($2::text[]) GROUP BY kind, status ORDER BY kind, status`,
    [runId, perShardStepKinds]);
  type Row = { kind: string; key: string; status: string; attempt: number; checkpoint: unknown; started_at: Date | null; finished_at: Date | null };
  const toView = (r: Row): StepView => ({ kind: r.kind, key: r.key, status: r.status, attempt: r.attempt, checkpoint: r.checkpoint, startedAt: r.started_at, finishedAt: r.finished_at });
  const { rows: failed } = await db.query<Row>(
    `SELECT kind, key, status, attempt, checkpoint->'failure' AS checkpoint, started_at, finished_at FROM upshift.steps
      WHERE run_id = $1 AND kind = 'shard' AND status = 'failed' ORDER BY length(key), key LIMIT $2`, [runId, listed]);
  const { rows: slowest } = await db.query<Row>(
    `SELECT kind, key, status, attempt, NULL AS checkpoint, started_at, finished_at FROM upshift.steps
      WHERE run_id = $1 AND kind = 'shard' AND status = 'running' ORDER BY started_at NULLS LAST LIMIT $2`, [runId, listed]);
  return { counts: counts.map((c) => ({ kind: c.kind, status: c.status, count: Number(c.count) })), failed: failed.map(toView), slowest: slowest.map(toView) };
}

/** How many events the relays have published (benchmarks count hops with it). */
export async function countPublished(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM upshift.outbox WHERE sent_at IS NOT NULL');
  return Number(rows[0]?.n ?? 0);
}

/** A run's control state as `upshift status` and the dashboard show it: who asked, what is held, the last controls. */
export interface RunControlView {
  readonly paused: boolean;
  readonly pausedAt: Date | undefined;
  /** Time paused so far, the current pause included. */
  readonly pausedMs: number;
  readonly throttle: Throttle | undefined;
  readonly gateWave: number | undefined;
  readonly updatedAt: Date | undefined;
  readonly updatedBy: string | undefined;
  /** Forward events waiting for a resume. */
  readonly held: number;
  /** The run's controls, newest first: action, outcome, message, who asked, when. */
  readonly history: ReadonlyArray<{ controlId: string; action: string; outcome: string; message: string; requestedBy: string; decidedAt: Date }>;
}

/** The run's control state (uncontrolled when nobody controlled it), or undefined before schema version 3. */
export async function viewRunControl(db: Queryable, runId: string, historyLimit = 10): Promise<RunControlView | undefined> {
  const { rows: present } = await db.query<{ ok: boolean }>(`SELECT to_regclass('upshift.run_controls') IS NOT NULL AS ok`);
  if (!present[0]?.ok) return undefined;
  const state = await readRunControl(db, runId);
  const held = await heldWorkOf(db, runId);
  const history = await controlHistory(db, runId, historyLimit);
  return {
    paused: state.paused, pausedAt: state.pausedAt === undefined ? undefined : new Date(state.pausedAt), pausedMs: pausedSoFar(state, Date.now()),
    throttle: state.throttle, gateWave: state.gateWave, updatedAt: state.updatedAt, updatedBy: state.updatedBy, held: held.length,
    history: history.map((h) => ({ controlId: h.controlId, action: h.action, outcome: h.outcome, message: h.message, requestedBy: h.requestedBy, decidedAt: h.decidedAt })),
  };
}
