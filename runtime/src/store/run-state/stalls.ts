/**
 * What the run watchdog reads and writes: active runs whose last change (run row, any step, any event
 * produced for them) is older than a threshold, the work events of a run that their consumer has not
 * handled (no inbox row), and publishing those again.
 */
import type { Queryable } from '../leases.ts';
import { outboxChannel } from '../outbox.ts';
import type { TxClient } from '../pool.ts';

/** An active run that has not changed for a while. */
export interface StalledRun {
  readonly runId: string;
  readonly since: Date;
}

/** The partition keys of a run's events: the run id, or `<runId>:…` for its shards. */
const ofRun = `(o.partition_key = r.id OR o.partition_key LIKE replace(replace(replace(r.id, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || ':%')`;

/** Active runs (running or rolling back) unchanged for `idleMs` (of them, `only` when given), oldest first, at most `limit`. */
export async function stalledRuns(db: Queryable, idleMs: number, options: { only?: string; limit?: number } = {}): Promise<StalledRun[]> {
  const { rows } = await db.query<{ id: string; since: Date }>(
    `SELECT r.id, greatest(r.updated_at,
              (SELECT max(s.updated_at) FROM upshift.steps s WHERE s.run_id = r.id),
              (SELECT max(o.created_at) FROM upshift.outbox o WHERE ${ofRun})) AS since
       FROM upshift.runs r
      WHERE r.status IN ('running', 'rolling-back') AND ($3::text IS NULL OR r.id = $3)
        AND greatest(r.updated_at,
              (SELECT max(s.updated_at) FROM upshift.steps s WHERE s.run_id = r.id),
              (SELECT max(o.created_at) FROM upshift.outbox o WHERE ${ofRun})) < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY since LIMIT $2`,
    [idleMs, options.limit ?? 50, options.only ?? null],
  );
  return rows.map((row) => ({ runId: row.id, since: row.since }));
}

/** A work event of a run, with whether its consumer handled it. */
export interface RunWorkEvent {
  readonly type: string;
  readonly id: string;
  readonly consumer: string;
  readonly handled: boolean;
}

/**
 * The run's work events in outbox order, each with its consumer (from `consumers`, type → function) and
 * whether that consumer's inbox has it. Lifecycle events (no consumer) are left out.
 */
export async function workEventsOf(db: Queryable, runId: string, consumers: ReadonlyMap<string, string>): Promise<RunWorkEvent[]> {
  const types = [...consumers.keys()];
  const { rows } = await db.query<{ type: string; id: string; source: string; handled: boolean }>(
    `SELECT o.type, o.id, o.source,
            EXISTS (SELECT 1 FROM upshift.inbox i WHERE i.consumer = c.consumer AND i.source = o.source AND i.id = o.id) AS handled
       FROM (SELECT $1::text AS id) r
       JOIN upshift.outbox o ON ${ofRun}
       JOIN unnest($2::text[], $3::text[]) AS c(type, consumer) ON c.type = o.type
      ORDER BY o.seq`,
    [runId, types, types.map((type) => consumers.get(type) ?? '')],
  );
  return rows.map((row) => ({ type: row.type, id: row.id, consumer: consumers.get(row.type) ?? '', handled: row.handled }));
}

/** Publishes these events of the run again (marks their outbox rows unsent and wakes the relays). */
export async function republish(tx: TxClient, runId: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tx.query(
    `UPDATE upshift.outbox o SET sent_at = NULL FROM (SELECT $1::text AS id) r WHERE o.id = ANY($2::text[]) AND ${ofRun}`, [runId, ids]);
  await tx.query(`SELECT pg_notify($1, '')`, [outboxChannel]);
  return result.rowCount ?? 0;
}

/** How many times the watchdog nudged the run (a `watchdog` step's attempt). */
export async function nudgesOf(db: Queryable, runId: string): Promise<number> {
  const { rows } = await db.query<{ attempt: number }>(`SELECT attempt FROM upshift.steps WHERE run_id = $1 AND kind = 'watchdog' AND key = 'stall'`, [runId]);
  return rows[0]?.attempt ?? 0;
}

/** Records a nudge or the watchdog's verdict on the run. */
export async function recordStall(tx: TxClient, runId: string, nudges: number, detail: { decision: 'nudge' | 'fail'; pending: readonly string[]; since: string; reason?: string }): Promise<void> {
  await tx.query(
    `INSERT INTO upshift.steps AS s (run_id, kind, key, status, attempt, checkpoint, started_at, finished_at)
     VALUES ($1, 'watchdog', 'stall', $2, $3, $4, now(), CASE WHEN $2 = 'failed' THEN now() END)
     ON CONFLICT (run_id, kind, key) DO UPDATE SET status = EXCLUDED.status, attempt = EXCLUDED.attempt, checkpoint = EXCLUDED.checkpoint,
       updated_at = now(), finished_at = EXCLUDED.finished_at`,
    [runId, detail.decision === 'fail' ? 'failed' : 'running', nudges, JSON.stringify(detail)],
  );
}
