/**
 * The run rows: a run, the targets it holds, its plan and its status. "One active run per workload /
 * migration target" is the unique partial index run_targets_one_active, not an in-memory check; a status
 * changes only along the transitions `lifecycle/statuses.ts` allows.
 */
import type { RunPlan } from '@upshift/events';
import { UpshiftError } from '../../errors.ts';
import { wrapError } from '../../wrap-error.ts';
import { finalRunStatuses, statusesBefore, type RunStatus } from '../../lifecycle/statuses.ts';
import type { TxClient } from '../pool.ts';
import type { Queryable } from '../leases.ts';

/** What a run holds exclusively while it is active. */
export interface RunTarget {
  readonly kind: 'workload' | 'migration';
  readonly target: string;
}

/**
 * Creates the run and claims its targets; false (and nothing claimed) when the run exists already (the
 * same request sent twice with different event ids, handled at once).
 */
export async function startRun(tx: TxClient, runId: string, request: unknown, targets: readonly RunTarget[]): Promise<boolean> {
  const created = await tx.query(`INSERT INTO upshift.runs (id, status, request) VALUES ($1, 'running', $2) ON CONFLICT (id) DO NOTHING`, [
    runId, JSON.stringify(request),
  ]);
  if ((created.rowCount ?? 0) === 0) return false;
  if (await claimAll(tx, runId, targets)) return true;
  // Another run holds one of them: claim one by one to name it.
  for (const target of targets) {
    try {
      await tx.query('SAVEPOINT claim_target');
      await tx.query(
        `INSERT INTO upshift.run_targets (run_id, kind, target) VALUES ($1, $2, $3) ON CONFLICT (run_id, kind, target) DO NOTHING`,
        [runId, target.kind, target.target],
      );
      await tx.query('RELEASE SAVEPOINT claim_target');
    } catch (err) {
      throw activeRunConflict(err, runId, target);
    }
  }
  return true;
}

/** Claims every target in one statement (2,000 workloads: one round trip, not 6,000); false, with nothing claimed, when another active run holds one. */
async function claimAll(tx: TxClient, runId: string, targets: readonly RunTarget[]): Promise<boolean> {
  if (targets.length === 0) return true;
  try {
    await tx.query('SAVEPOINT claim_targets');
    await tx.query(
      `INSERT INTO upshift.run_targets (run_id, kind, target) SELECT $1, kind, target FROM unnest($2::text[], $3::text[]) AS t(kind, target)
        ON CONFLICT (run_id, kind, target) DO NOTHING`,
      [runId, targets.map((t) => t.kind), targets.map((t) => t.target)],
    );
    await tx.query('RELEASE SAVEPOINT claim_targets');
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code !== '23505') throw wrapError(err, { operation: 'run.claim', runId });
    await tx.query('ROLLBACK TO SAVEPOINT claim_targets');
    return false;
  }
}

function activeRunConflict(err: unknown, runId: string, target: RunTarget): UpshiftError {
  const sqlState = (err as { code?: unknown }).code;
  if (sqlState !== '23505') return wrapError(err, { operation: 'run.claim', runId });
  return new UpshiftError('CONFLICT', `${target.kind} ${target.target} already belongs to another active run`, {
    cause: err,
    context: { runId, kind: target.kind, target: target.target },
  });
}

/** Whether the control store knows this run (a re-sent request with a new event id finds it). */
export async function runExists(db: Queryable, runId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM upshift.runs WHERE id = $1', [runId]);
  return (rowCount ?? 0) > 0;
}

/** Other active runs holding any of these targets: "one run per target" is the unique index; this names the holder. */
export async function activeHolders(tx: TxClient, runId: string, targets: readonly RunTarget[]): Promise<Array<RunTarget & { runId: string }>> {
  if (targets.length === 0) return [];
  const { rows } = await tx.query<{ kind: RunTarget['kind']; target: string; run_id: string }>(
    `SELECT kind, target, run_id FROM upshift.run_targets
      WHERE released_at IS NULL AND run_id <> $1 AND (kind, target) IN (SELECT * FROM unnest($2::text[], $3::text[]))
      ORDER BY kind, target`,
    [runId, targets.map((t) => t.kind), targets.map((t) => t.target)],
  );
  return rows.map((row) => ({ kind: row.kind, target: row.target, runId: row.run_id }));
}

/**
 * Moves the run to `status` if the transition is allowed from where it stands (false when it is not: a
 * run already ended stays ended). A final status releases its targets for the next run.
 */
export async function setRunStatus(tx: TxClient, runId: string, status: RunStatus): Promise<boolean> {
  const final = finalRunStatuses.has(status);
  const result = await tx.query(
    `UPDATE upshift.runs SET status = $2, updated_at = now(), finished_at = CASE WHEN $3 THEN now() ELSE finished_at END
      WHERE id = $1 AND status = ANY($4::text[])`,
    [runId, status, final, statusesBefore(status)],
  );
  if (final) await tx.query(`UPDATE upshift.run_targets SET released_at = now() WHERE run_id = $1 AND released_at IS NULL`, [runId]);
  return (result.rowCount ?? 0) > 0;
}

/** Where a run stands: what a decision locks it for. */
export interface RunState {
  readonly status: RunStatus;
  readonly createdAt: Date;
}

/** The run row as a handler needs it: its state and the request it was started with. */
export interface RunFacts extends RunState {
  readonly request: { readonly policy?: unknown };
}

/**
 * Locks the run for this transaction (fan-ins of concurrent deliveries serialize on it) and reads its
 * state, not its request (a policy of a thousand services, read on every shard's fan-in otherwise);
 * undefined for an unknown run.
 */
export async function lockRun(tx: TxClient, runId: string): Promise<RunState | undefined> {
  const { rows } = await tx.query<{ status: RunStatus; created_at: Date }>(
    'SELECT status, created_at FROM upshift.runs WHERE id = $1 FOR UPDATE', [runId]);
  const row = rows[0];
  return row ? { status: row.status, createdAt: row.created_at } : undefined;
}

/** Reads the run row without locking it; undefined for an unknown run. */
export async function readRunFacts(db: Queryable, runId: string): Promise<RunFacts | undefined> {
  const { rows } = await db.query<{ status: RunStatus; created_at: Date; request: { policy?: unknown } | null }>(
    'SELECT status, created_at, request FROM upshift.runs WHERE id = $1', [runId]);
  const row = rows[0];
  return row ? { status: row.status, createdAt: row.created_at, request: row.request ?? {} } : undefined;
}

/** Stores the plan with its run (the run row must exist). */
export async function savePlan(tx: TxClient, plan: RunPlan): Promise<void> {
  await tx.query(`UPDATE upshift.runs SET plan = $2, updated_at = now() WHERE id = $1`, [plan.runId, JSON.stringify(plan)]);
}

/** Reads a run's plan, or undefined when the run is unknown or was rejected before planning. */
export async function loadPlan(db: Queryable, runId: string): Promise<RunPlan | undefined> {
  const { rows } = await db.query<{ plan: RunPlan | null }>('SELECT plan FROM upshift.runs WHERE id = $1', [runId]);
  return rows[0]?.plan ?? undefined;
}

/** The run's plan, or a contract violation naming the run (an event about a run plan never stored). */
export async function requirePlan(db: Queryable, runId: string): Promise<RunPlan> {
  const plan = await loadPlan(db, runId);
  if (!plan) throw new UpshiftError('CONTRACT_VIOLATION', `run ${runId} has no plan`, { context: { runId } });
  return plan;
}

/** What a shard of a run reads of it every time, and that never changes once the run is planned. */
export interface PlannedFacts {
  /** The catalog checksum the plan pinned for each migration ref (none for an unplanned run). */
  readonly checksums: ReadonlyMap<string, string>;
  /** Whether the run has a plan yet (a run rejected before planning never will). */
  readonly planned: boolean;
  /** The policy's `spec.strategy.throttle` section as requested (unparsed), if any. */
  readonly throttle: unknown;
}

/**
 * The planned checksums and the policy's throttle section of a run, in one primary-key read that sends
 * only those parts of the stored plan and request (a plan of many shards is large); undefined for an
 * unknown run.
 */
export async function readPlannedFacts(db: Queryable, runId: string): Promise<PlannedFacts | undefined> {
  const { rows } = await db.query<{ checksums: Record<string, string>; planned: boolean; throttle: unknown }>(
    `SELECT (SELECT coalesce(jsonb_object_agg(m->>'ref', m->>'checksum'), '{}'::jsonb)
               FROM jsonb_array_elements(CASE jsonb_typeof(r.plan->'migrations') WHEN 'array' THEN r.plan->'migrations' ELSE '[]'::jsonb END) m
              WHERE m->>'ref' IS NOT NULL AND m->>'checksum' IS NOT NULL) AS checksums,
            r.plan IS NOT NULL AS planned,
            r.request->'policy'->'spec'->'strategy'->'throttle' AS throttle
       FROM upshift.runs r WHERE r.id = $1`, [runId]);
  const row = rows[0];
  return row ? { checksums: new Map(Object.entries(row.checksums)), planned: row.planned, throttle: row.throttle ?? undefined } : undefined;
}

/** Ends the unfinished runs of a policy as `abandoned` (an interrupted demo), releasing their targets; returns their ids. */
export async function abandonRunsOf(db: Queryable, policyName: string): Promise<string[]> {
  const { rows: present } = await db.query<{ ok: boolean }>(`SELECT to_regclass('upshift.runs') IS NOT NULL AS ok`);
  if (!present[0]?.ok) return [];
  const { rows } = await db.query<{ id: string }>(
    `UPDATE upshift.runs SET status = 'abandoned', finished_at = now(), updated_at = now()
      WHERE finished_at IS NULL AND (plan->>'policyName' = $1 OR request->'policy'->'metadata'->>'name' = $1) RETURNING id`, [policyName]);
  const ids = rows.map((r) => r.id);
  if (ids.length > 0) await db.query('UPDATE upshift.run_targets SET released_at = now() WHERE run_id = ANY($1) AND released_at IS NULL', [ids]);
  return ids;
}
