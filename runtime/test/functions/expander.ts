/**
 * Test function (plays migrate-shard): on migration.expand.requested it counts one effect per run in
 * its own table and emits migration.expand.done. Behaviour by runId prefix: `unavailable-…` fails with
 * UNAVAILABLE (503) on its first two attempts, `refuse-…` fails with CONTRACT_VIOLATION (400).
 */
import type { Pool } from 'pg';
import { UpshiftError } from '../../src/errors.ts';
import { defineFunction } from '../../src/host/function.ts';

let pool: Pool | undefined;

/** Counts attempts outside the handling transaction (which rolls back on failure). */
async function attempt(runId: string): Promise<number> {
  const { rows } = await pool!.query<{ n: number }>(
    `INSERT INTO test_attempts (run_id, n) VALUES ($1, 1) ON CONFLICT (run_id) DO UPDATE SET n = test_attempts.n + 1 RETURNING n`,
    [runId],
  );
  return rows[0]!.n;
}

const expander = defineFunction({
  name: 'migrate-shard',
  async init(deps) {
    pool = deps.pool;
    await deps.pool.query(`CREATE TABLE IF NOT EXISTS test_effects (run_id text PRIMARY KEY, n integer NOT NULL)`);
    await deps.pool.query(`CREATE TABLE IF NOT EXISTS test_attempts (run_id text PRIMARY KEY, n integer NOT NULL)`);
  },
  async handle(ctx, event) {
    if (event.type !== 'dev.upshift.migration.expand.requested.v1') return;
    const { runId, migrations } = event.data;
    const n = await attempt(runId);
    if (runId.startsWith('unavailable-') && n <= 2) throw new UpshiftError('UNAVAILABLE', `simulated outage, attempt ${n}`);
    if (runId.startsWith('refuse-')) throw new UpshiftError('CONTRACT_VIOLATION', 'simulated refusal');
    await ctx.decide(async (d) => {
      await d.tx.query(
        `INSERT INTO test_effects (run_id, n) VALUES ($1, 1) ON CONFLICT (run_id) DO UPDATE SET n = test_effects.n + 1`,
        [runId],
      );
      d.emit('migration.expand.done', { runId, migrations: [...migrations] });
    });
  },
});

export default expander;
export const { handle, init, shutdown, readiness, liveness } = expander;
