/**
 * Test function (plays rollout): records when each migration.expand.done reached its handler (hop
 * benchmark, inline mode) and counts effects in its own table.
 */
import { defineFunction } from '../../src/host/function.ts';

/** Handler start time (ms, sub-ms precision) per event id, for the inline benchmark. */
export const handlerStarts = new Map<string, number>();

const recorder = defineFunction({
  name: 'rollout',
  async init(deps) {
    await deps.pool.query(`CREATE TABLE IF NOT EXISTS test_received (event_id text PRIMARY KEY, run_id text NOT NULL)`);
  },
  async handle(ctx, event) {
    handlerStarts.set(event.id, performance.timeOrigin + performance.now());
    if (event.type !== 'dev.upshift.migration.expand.done.v1') return;
    const runId = event.data.runId;
    await ctx.decide(async (d) => {
      await d.tx.query(`INSERT INTO test_received (event_id, run_id) VALUES ($1, $2)`, [event.id, runId]);
    });
  },
});

export default recorder;
export const { handle, init, shutdown, readiness, liveness } = recorder;
