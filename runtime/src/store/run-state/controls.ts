/**
 * Operator controls in the control store: a run's control state (`upshift.run_controls`, written only by
 * verify), each control's answer (`run_control_log`: a control id acts once), and the forward events
 * held while a run is paused (`held_events`): the host diverts them there instead of the outbox, and a
 * resume moves them to the outbox in its transaction. A decision that would emit forward events locks
 * the run's control row FOR SHARE, so a concurrent resume (which updates it) waits for it to commit and
 * then finds what it held: nothing held stays held after a resume.
 *
 * A gate (`strategy.gates`) holds the same way: the first request of a gated wave records the gate
 * (`gate_wave`, and a `gate-<wave>` claim so it is reached once) and is held; a resume leaves it held,
 * only a promote (which clears `gate_wave`) releases it.
 */
import { catalogue, entryForType, type RunControlApplied, type Throttle } from '@upshift/events';
import { isHeldAtGate, isHeldWhilePaused, uncontrolled, type ControlState } from '../../lifecycle/controls.ts';
import type { RunStatus } from '../../lifecycle/statuses.ts';
import type { Queryable } from '../leases.ts';
import { outboxChannel, type OutboxEntry } from '../outbox.ts';
import type { TxClient } from '../pool.ts';

/** A run's control state with who changed it last. */
export interface StoredControl extends ControlState {
  readonly updatedAt: Date | undefined;
  readonly updatedBy: string | undefined;
  readonly lastControlId: string | undefined;
}

interface ControlRow {
  paused: boolean;
  paused_at: Date | null;
  paused_ms: string;
  throttle: Throttle | null;
  gate_wave: number | null;
  updated_at: Date | null;
  updated_by: string | null;
  last_control_id: string | null;
}

const controlColumns = 'paused, paused_at, paused_ms, throttle, gate_wave, updated_at, updated_by, last_control_id';

function toControl(row: ControlRow | undefined): StoredControl {
  if (!row) return { ...uncontrolled, updatedAt: undefined, updatedBy: undefined, lastControlId: undefined };
  return {
    paused: row.paused, pausedAt: row.paused_at?.getTime(), pausedMs: Number(row.paused_ms), throttle: row.throttle ?? undefined,
    gateWave: row.gate_wave ?? undefined, updatedAt: row.updated_at ?? undefined, updatedBy: row.updated_by ?? undefined,
    lastControlId: row.last_control_id ?? undefined,
  };
}

/** The run's control state (the uncontrolled state when nobody controlled it). */
export async function readRunControl(db: Queryable, runId: string): Promise<StoredControl> {
  const { rows } = await db.query<ControlRow>(`SELECT ${controlColumns} FROM upshift.run_controls WHERE run_id = $1`, [runId]);
  return toControl(rows[0]);
}

/** Stores the run's control state after a control (`requestedBy` and `controlId` recorded with it). */
export async function writeRunControl(tx: TxClient, runId: string, state: ControlState, by: { requestedBy: string; controlId: string }): Promise<void> {
  await tx.query(
    `INSERT INTO upshift.run_controls AS c (run_id, paused, paused_at, paused_ms, throttle, gate_wave, updated_at, updated_by, last_control_id)
     VALUES ($1, $2, to_timestamp($3::double precision / 1000), $4, $5, $6, now(), $7, $8)
     ON CONFLICT (run_id) DO UPDATE SET paused = EXCLUDED.paused, paused_at = EXCLUDED.paused_at, paused_ms = EXCLUDED.paused_ms,
       throttle = EXCLUDED.throttle, gate_wave = EXCLUDED.gate_wave, updated_at = now(), updated_by = EXCLUDED.updated_by,
       last_control_id = EXCLUDED.last_control_id`,
    [runId, state.paused, state.paused ? state.pausedAt ?? null : null, Math.round(state.pausedMs), state.throttle ? JSON.stringify(state.throttle) : null,
      state.gateWave ?? null, by.requestedBy, by.controlId],
  );
}

/** The answer given to a control before (a control id acts once), or undefined. */
export async function controlAnswer(db: Queryable, controlId: string): Promise<RunControlApplied | undefined> {
  const { rows } = await db.query<{ answer: RunControlApplied }>('SELECT answer FROM upshift.run_control_log WHERE control_id = $1', [controlId]);
  return rows[0]?.answer;
}

/** Records a control's answer; false when the control id was answered before. */
export async function recordControlAnswer(tx: TxClient, answer: RunControlApplied): Promise<boolean> {
  const result = await tx.query(
    `INSERT INTO upshift.run_control_log (control_id, run_id, action, outcome, answer) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (control_id) DO NOTHING`,
    [answer.controlId, answer.runId, answer.action, answer.outcome, JSON.stringify(answer)],
  );
  return (result.rowCount ?? 0) > 0;
}

/** The run's controls, newest first (at most `limit`), as answered. */
export async function controlHistory(db: Queryable, runId: string, limit = 20): Promise<Array<RunControlApplied & { decidedAt: Date }>> {
  const { rows } = await db.query<{ answer: RunControlApplied; decided_at: Date }>(
    'SELECT answer, decided_at FROM upshift.run_control_log WHERE run_id = $1 ORDER BY decided_at DESC, control_id LIMIT $2', [runId, limit]);
  return rows.map((row) => ({ ...row.answer, decidedAt: row.decided_at }));
}

function runIdOf(entry: OutboxEntry): string | undefined {
  const runId = (entry.event as { data?: { runId?: unknown } }).data?.runId;
  return typeof runId === 'string' ? runId : undefined;
}

/**
 * Splits a decision's outputs: the forward events of a paused run, and the request of a wave waiting at
 * its gate, are held (stored in `held_events`), the rest returned for the outbox. Reads (FOR SHARE) the
 * control row of each run with forward events.
 */
export async function holdWhilePaused(tx: TxClient, entries: readonly OutboxEntry[]): Promise<readonly OutboxEntry[]> {
  const forward = entries.filter((entry) => isHeldWhilePaused(entryForType(entry.type)?.name ?? '') && runIdOf(entry) !== undefined);
  if (forward.length === 0) return entries;
  const atGate = await holdAtGates(tx, forward);
  const runs = [...new Set(forward.map((entry) => runIdOf(entry)!))];
  const { rows } = await tx.query<{ run_id: string }>(
    'SELECT run_id FROM upshift.run_controls WHERE run_id = ANY($1::text[]) AND paused ORDER BY run_id FOR SHARE', [runs]);
  if (rows.length === 0 && atGate.size === 0) return entries;
  const pausedRuns = new Set(rows.map((row) => row.run_id));
  const held = forward.filter((entry) => pausedRuns.has(runIdOf(entry)!) || atGate.has(entry));
  await tx.query(
    `INSERT INTO upshift.held_events (run_id, source, id, type, topic, partition_key, event)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
     ON CONFLICT (source, id) DO NOTHING`,
    [held.map((e) => runIdOf(e)!), held.map((e) => e.source), held.map((e) => e.id), held.map((e) => e.type), held.map((e) => e.topic),
      held.map((e) => e.partitionKey ?? null), held.map((e) => JSON.stringify(e.event))],
  );
  return entries.filter((entry) => !held.includes(entry));
}

const waveRequestType = catalogue['rollout.wave.requested'].type;

/**
 * The `rollout.wave.requested` entries among `forward` that wait at their wave's gate. The first request
 * of a gated wave reaches the gate: it claims `gate-<wave>` and records `gate_wave` (locking the control
 * row, so a promote in flight decides after this commits); later ones are held while that gate is current.
 */
async function holdAtGates(tx: TxClient, forward: readonly OutboxEntry[]): Promise<Set<OutboxEntry>> {
  const held = new Set<OutboxEntry>();
  for (const entry of forward.filter((e) => e.type === waveRequestType)) {
    const runId = runIdOf(entry)!;
    const wave = (entry.event as { data?: { wave?: unknown } }).data?.wave;
    if (typeof wave !== 'number') continue;
    const { rows: plans } = await tx.query<{ gated: boolean }>(
      `SELECT coalesce(plan->'strategy'->'gateWaves', '[]'::jsonb) @> to_jsonb($2::int) AS gated FROM upshift.runs WHERE id = $1`, [runId, wave]);
    if (plans[0]?.gated !== true) continue;
    const reached = await tx.query(
      `INSERT INTO upshift.steps (run_id, kind, key, status, checkpoint, started_at) VALUES ($1, 'once', $2, 'running', '{}', now()) ON CONFLICT DO NOTHING`,
      [runId, `gate-${wave}`]);
    const reachedBefore = (reached.rowCount ?? 0) === 0;
    if (!reachedBefore) {
      await tx.query(
        `INSERT INTO upshift.run_controls (run_id, gate_wave) VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET gate_wave = EXCLUDED.gate_wave`, [runId, wave]);
    }
    const { rows } = await tx.query<{ gate_wave: number | null }>('SELECT gate_wave FROM upshift.run_controls WHERE run_id = $1 FOR SHARE', [runId]);
    if (isHeldAtGate(true, rows[0]?.gate_wave ?? undefined, wave, reachedBefore)) held.add(entry);
  }
  return held;
}

/**
 * Moves the run's held events to the outbox, in the order they were held, and wakes the relays; returns
 * how many. The request of a wave still waiting at its gate (`gate_wave`) stays held: only a promote
 * (which clears the gate first) releases it.
 */
export async function releaseHeldWork(tx: TxClient, runId: string): Promise<number> {
  const { rows } = await tx.query<{ n: string }>(
    `WITH gate AS (SELECT gate_wave FROM upshift.run_controls WHERE run_id = $1),
          moved AS (DELETE FROM upshift.held_events h WHERE h.run_id = $1
            AND NOT (h.type = $2 AND (h.event->'data'->>'wave')::int IS NOT DISTINCT FROM (SELECT gate_wave FROM gate) AND (SELECT gate_wave FROM gate) IS NOT NULL)
            RETURNING seq, source, id, type, topic, partition_key, event),
          published AS (INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event)
            SELECT source, id, type, topic, partition_key, event FROM moved ORDER BY seq ON CONFLICT (source, id) DO NOTHING RETURNING 1)
     SELECT (SELECT count(*) FROM moved) AS n`, [runId, waveRequestType]);
  const released = Number(rows[0]?.n ?? 0);
  if (released > 0) await tx.query('SELECT pg_notify($1, $2)', [outboxChannel, '']);
  return released;
}

/** Drops the run's held events (it no longer goes forward: aborted, rolling back); returns how many. */
export async function dropHeldWork(tx: TxClient, runId: string): Promise<number> {
  const result = await tx.query('DELETE FROM upshift.held_events WHERE run_id = $1', [runId]);
  return result.rowCount ?? 0;
}

/** The run's held events, oldest first (what `upshift status` shows). */
export async function heldWorkOf(db: Queryable, runId: string): Promise<Array<{ type: string; id: string; partitionKey: string | null; heldAt: Date }>> {
  const { rows } = await db.query<{ type: string; id: string; partition_key: string | null; held_at: Date }>(
    'SELECT type, id, partition_key, held_at FROM upshift.held_events WHERE run_id = $1 ORDER BY seq', [runId]);
  return rows.map((row) => ({ type: row.type, id: row.id, partitionKey: row.partition_key, heldAt: row.held_at }));
}

/** What a shard worker reads between batches, in one primary-key read: the run's status, paused or not, its throttle. */
export interface ShardControl {
  readonly status: RunStatus | undefined;
  readonly paused: boolean;
  readonly throttle: Throttle | undefined;
}

/** The run's status and control state for a shard worker (one read by primary key). */
export async function shardControlOf(db: Queryable, runId: string): Promise<ShardControl> {
  const { rows } = await db.query<{ status: RunStatus; paused: boolean | null; throttle: Throttle | null }>(
    'SELECT r.status, c.paused, c.throttle FROM upshift.runs r LEFT JOIN upshift.run_controls c ON c.run_id = r.id WHERE r.id = $1', [runId]);
  const row = rows[0];
  return { status: row?.status, paused: row?.paused === true, throttle: row?.throttle ?? undefined };
}

/** The data of the latest `shard.requested` of a shard (outbox or held), to request it again; undefined when none. */
export async function latestShardRequest(db: Queryable, shardId: string, type: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query<{ data: Record<string, unknown> }>(
    `SELECT event->'data' AS data FROM (
       SELECT seq, event FROM upshift.outbox WHERE partition_key = $1 AND type = $2
       UNION ALL SELECT seq, event FROM upshift.held_events WHERE partition_key = $1 AND type = $2) r
     ORDER BY seq DESC LIMIT 1`, [shardId, type]);
  return rows[0]?.data;
}

/** A promote passed the run's gate: its `gate-<wave>` claim is done (status shows when the gate was passed). */
export async function passGates(tx: TxClient, runId: string): Promise<void> {
  await tx.query(
    `UPDATE upshift.steps SET status = 'completed', finished_at = now(), updated_at = now()
      WHERE run_id = $1 AND kind = 'once' AND key LIKE 'gate-%' AND status = 'running'`, [runId]);
}

/**
 * Reopens a failed shard for a retry: its step goes back to `pending` (checkpoint kept, failure dropped:
 * it resumes after its last committed batch) and verify's fan-in forgets its final outcome, so the stage
 * waits for it again. False when the shard is no longer failed.
 */
export async function reopenFailedShard(tx: TxClient, runId: string, shardId: string): Promise<boolean> {
  const reopened = await tx.query(
    `UPDATE upshift.steps SET status = 'pending', checkpoint = CASE WHEN jsonb_typeof(checkpoint) = 'object' THEN checkpoint - 'failure' ELSE checkpoint END,
            finished_at = NULL, updated_at = now()
      WHERE run_id = $1 AND kind = 'shard' AND key = $2 AND status = 'failed'`, [runId, shardId]);
  if ((reopened.rowCount ?? 0) === 0) return false;
  await tx.query(`DELETE FROM upshift.steps WHERE run_id = $1 AND kind = 'fanin' AND key = $2`, [runId, shardId]);
  return true;
}

/** The type of the run's latest event among `types` (where the run stands), or undefined. */
export async function latestEventType(db: Queryable, runId: string, types: readonly string[]): Promise<string | undefined> {
  const { rows } = await db.query<{ type: string }>(
    `SELECT type FROM upshift.outbox WHERE (partition_key = $1 OR partition_key LIKE $2) AND type = ANY($3::text[]) ORDER BY seq DESC LIMIT 1`,
    [runId, `${runId.replace(/[\\%_]/g, '\\$&')}:%`, [...types]]);
  return rows[0]?.type;
}
