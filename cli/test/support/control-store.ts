/**
 * Test support: a fresh control-store database (schema `upshift` as the functions create it) holding
 * finished runs written the way the functions write them — a runs row with its plan, steps, and the
 * run's events in the outbox.
 */
import { freshDatabase, stackEnv } from '../../../runtime/test/support/stack.ts';
import { createEvent, type AnyUpshiftEvent, type EventData, type EventName, type Producer } from '@upshift/events';
import { createPool, migrateStore } from '@upshift/runtime';

/** The pool type of the runtime package (its own @types/pg copy). */
type Pool = ReturnType<typeof createPool>;

/** A throw-away control store. */
export interface TestStore {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** Creates a database with the control-store schema. */
export async function freshControlStore(): Promise<TestStore> {
  const db = await freshDatabase(stackEnv());
  const pool = createPool(db.url);
  await migrateStore(pool);
  return {
    url: db.url, pool,
    async drop() {
      await pool.end();
      await db.drop();
    },
  };
}

/** An event of the run as a function would emit it. */
export function runEvent<N extends EventName>(name: N, data: EventData<N>, producer: Producer, id: string, time: Date): AnyUpshiftEvent {
  return createEvent(name, data, { producer, id, time, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }) as AnyUpshiftEvent;
}

/** A finished run: its row, wave steps, and its events in the outbox (as sent). */
export async function insertFinishedRun(pool: Pool, run: { id: string; status: string; policyName: string; started: Date; finished: Date; events: AnyUpshiftEvent[]; waves: number }): Promise<void> {
  const plan = { runId: run.id, policyName: run.policyName, dryRun: false, waves: [], migrations: [], clusters: [], strategy: {} };
  await pool.query(`INSERT INTO upshift.runs (id, status, request, plan, created_at, updated_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
    [run.id, run.status, JSON.stringify({ policy: { metadata: { name: run.policyName } } }), JSON.stringify(plan), run.started, run.finished]);
  for (let wave = 0; wave < run.waves; wave += 1) {
    await pool.query(`INSERT INTO upshift.steps (run_id, kind, key, status, attempt, started_at, finished_at) VALUES ($1, 'wave', $2, 'completed', 2, $3, $4)`,
      [run.id, String(wave), run.started, run.finished]);
  }
  for (const event of run.events) {
    await pool.query(`INSERT INTO upshift.outbox (source, id, type, topic, partition_key, event, sent_at) VALUES ($1, $2, $3, 'upshift.lifecycle', $4, $5, now())`,
      [event.source, event.id, event.type, event.partitionkey, JSON.stringify(event)]);
  }
}
