/**
 * @upshift/dashboard — the live web dashboard (`upshift dashboard`, and the same server in the cluster):
 * the control store read through runtime's views and `upshift watch`'s fold, kept live by one LISTEN
 * connection, pushed to pages as server-sent events; controls published as `run.control.requested`.
 */
import type { AddressInfo } from 'node:net';
import { createPool, hasControlStore, listenRunChanges, redactCredentials } from '@upshift/runtime';
import { readRun } from '../../cli/src/watch/store.ts';
import type { DashboardConfig } from './config.ts';
import { kafkaControlPublisher, type ControlPublisher } from './adapters/control-publisher.ts';
import { LiveDocuments, type DocumentBuilder } from './adapters/live.ts';
import { initialRunState, readRunPage, readRunsList } from './adapters/run-source.ts';
import { createDashboardServer } from './http/server.ts';

export { parseDashboardConfig, settingsFromEnv, type DashboardConfig } from './config.ts';
export type { ControlPublisher } from './adapters/control-publisher.ts';

/** A running dashboard. */
export interface Dashboard {
  /** Where it is reached, e.g. `http://127.0.0.1:8090/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Things a test or the demo may replace. */
export interface DashboardHooks {
  readonly publisher?: ControlPublisher;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Rebuild pacing (default 500 ms coalescing, 2 s tick). */
  readonly coalesceMs?: number;
  readonly tickMs?: number;
}

function jsonLog(message: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${redactCredentials(JSON.stringify({ time: new Date().toISOString(), service: 'upshift-dashboard', msg: message, ...fields }))}\n`);
}

/** Starts the dashboard on `config.host:config.port`; fails when the control store is not reachable or has no schema. */
export async function startDashboard(config: DashboardConfig, hooks: DashboardHooks = {}): Promise<Dashboard> {
  const log = hooks.log ?? jsonLog;
  const db = createPool(config.databaseUrl, { max: 4, applicationName: 'upshift-dashboard', onError: () => undefined });
  if (!(await hasControlStore(db).catch(async (error: unknown) => { await db.end(); throw error; }))) {
    await db.end();
    throw new Error('the database has no upshift control store (start the functions once, or check --database-url)');
  }
  const live = new LiveDocuments({
    coalesceMs: hooks.coalesceMs ?? 500, tickMs: hooks.tickMs ?? 2000, keepMs: 30_000, now: Date.now,
    onError: (key, error) => log('reading a document failed', { key, error: error instanceof Error ? error.message : String(error) }),
  });
  const runsList = (): DocumentBuilder => async (now) => ({ json: JSON.stringify(await readRunsList(db, now)), live: true });
  const run = (runId: string): DocumentBuilder => {
    let state = initialRunState(runId);
    return async (now) => {
      const read = await readRunPage(db, state, now, config.jaegerUrl);
      if (!read) return undefined;
      state = read.state;
      return { json: JSON.stringify(read.document), live: read.document.endedAt === null };
    };
  };
  const listener = listenRunChanges(config.databaseUrl, {
    onRunChanged: (runId) => { live.changed(`run:${runId}`); live.changed('runs'); },
    onReconnect: () => live.changedAll(),
    onError: (error) => log('run-change listener failed; retrying', { error: error.message }),
  });
  await listener.ready;
  const publisher = hooks.publisher ?? (config.brokers.length > 0 ? kafkaControlPublisher(config.brokers, config.topicPrefix, config.kafka) : undefined);
  let port = config.port;
  const server = createDashboardServer({
    access: { readOnly: config.readOnly, token: config.token, noAuth: config.noAuth }, live, runsList, run, publisher, log,
    runOpen: async (runId) => {
      const row = await readRun(db, runId);
      // A failed run may be frozen (retried or rolled back by a control); verify, which knows, answers the rest.
      return row === undefined ? undefined : row.finishedAt === undefined || row.status === 'failed';
    },
  }, { host: config.host, port: () => port });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    live.close();
    await listener.stop();
    await publisher?.close();
    await db.end();
    throw error;
  }
  port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/`,
    async close() {
      live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await listener.stop();
      await publisher?.close();
      await db.end();
    },
  };
}
