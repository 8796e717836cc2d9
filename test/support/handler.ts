/**
 * Handler tests the way knative func templates ship them: the function module initialised in this
 * process (`fn.init({ env, publisher })`) against a fresh control-store database, an in-memory transport
 * as publisher, events built from the events/ fixtures, and reads of what one handling produced: its
 * outbox rows (through the result's `outputs` ids) and what the relay then published.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { decode, fixtureJson, type AnyUpshiftEvent, type EventData, type EventName, type EventOf } from '@upshift/events';
import { createPool, MemoryTransport, type FunctionModule, type HandleResult } from '@upshift/runtime';
import { eventually, freshDatabase, functionEnv, stackEnv } from '../../runtime/test/support/stack.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The events topics carry under this prefix (nothing reaches Kafka: the transport is in memory). */
const topicPrefix = 'mem.';

/**
 * Points this process's $KUBECONFIG at the stack's (when not exported already): the functions and
 * test/support/kube.ts load the default kubeconfig when they first talk to a cluster.
 */
export function useStackKubeconfig(): string {
  if (!process.env.KUBECONFIG) {
    const text = execFileSync(process.execPath, ['stack/src/cli.ts', 'env'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const found = /^export KUBECONFIG='([^']*)'$/m.exec(text)?.[1];
    if (!found) throw new Error('the stack exports no KUBECONFIG (start it: node stack/src/cli.ts up)');
    process.env.KUBECONFIG = found;
  }
  return process.env.KUBECONFIG;
}

/**
 * A fixture event with its data adapted to the test (`adapt` gets the fixture's data), a fresh id and
 * the subject the new data implies; source, time and trace context stay the fixture's.
 */
export function fixtureEvent<N extends EventName>(name: N, adapt: (data: EventData<N>) => EventData<N>, options: { id?: string } = {}): EventOf<N> {
  const { subject: _subject, partitionkey: _key, ...json } = fixtureJson(name) as { subject?: string; partitionkey?: string; data: EventData<N> };
  return decode({ ...json, id: options.id ?? randomUUID(), data: adapt(structuredClone(json.data)) }) as EventOf<N>;
}

/** The ids of the events a handling emitted (the HTTP-shaped result's `outputs`). */
export function outputIds(result: HandleResult): string[] {
  const outputs = result.body['outputs'];
  if (!Array.isArray(outputs)) throw new Error(`no outputs in ${JSON.stringify(result.body)}`);
  return outputs.map(String);
}

/** A function module initialised against its own control store, with what the tests look at. */
export interface FunctionUnderTest {
  readonly fn: FunctionModule;
  readonly transport: MemoryTransport;
  /** The control store of this test file, typed as the runtime's (tests may query it directly). */
  readonly store: ReturnType<typeof createPool>;
  readonly databaseUrl: string;
  handle(event: unknown): Promise<HandleResult>;
  /** The events a handling stored in the outbox, in the order it emitted them. */
  outputsOf(result: HandleResult): Promise<AnyUpshiftEvent[]>;
  /** Waits until the relay published every one of `ids` to the transport; returns them in `ids` order. */
  published(ids: readonly string[]): Promise<AnyUpshiftEvent[]>;
  /** How many events the outbox holds for the run (partition key = run id, or a shard id of the run). */
  outboxCount(runId: string): Promise<number>;
  stop(): Promise<void>;
}

/** Initialises `fn` against a fresh control-store database and a MemoryTransport. */
export async function startFunction(fn: FunctionModule, extraEnv: Record<string, string> = {}): Promise<FunctionUnderTest> {
  const env = stackEnv();
  const db = await freshDatabase(env);
  const transport = new MemoryTransport();
  await fn.init({ env: functionEnv(env, db.url, topicPrefix, { RELAY_POLL_MS: '100', LOG_LEVEL: 'error', ...extraEnv }), publisher: transport });
  const store = createPool(db.url, { max: 4, applicationName: 'upshift-handler-test' });
  return {
    fn, transport, store, databaseUrl: db.url,
    handle: (event) => fn.handle({}, event),
    async outputsOf(result) {
      const ids = outputIds(result);
      const { rows } = await store.query<{ id: string; event: unknown }>('SELECT id, event FROM upshift.outbox WHERE id = ANY($1::text[])', [ids]);
      const byId = new Map(rows.map((row) => [row.id, decode(row.event)]));
      return ids.map((id) => byId.get(id) ?? failMissing(id));
    },
    async published(ids) {
      return eventually(async () => {
        const seen = new Map(transport.published.map((message) => [message.event.id, message.event]));
        return ids.every((id) => seen.has(id)) ? ids.map((id) => seen.get(id)!) : undefined;
      }, 10_000);
    },
    async outboxCount(runId) {
      const { rows } = await store.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM upshift.outbox WHERE partition_key = $1 OR partition_key LIKE $2`, [runId, `${runId}:%`]);
      return rows[0]?.n ?? 0;
    },
    async stop() {
      await fn.shutdown();
      await store.end();
      await db.drop();
    },
  };
}

function failMissing(id: string): never {
  throw new Error(`output ${id} is not in the outbox`);
}
