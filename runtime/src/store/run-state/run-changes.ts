/**
 * Listening for changes to runs (control-store schema version 4): triggers on `upshift.runs`, `steps`
 * and `outbox` NOTIFY channel `upshift_run` with the run id only — payloads are capped at 8000 bytes and
 * never replayed, so a listener re-reads what it shows. One connection serves a whole process (the
 * dashboard); a lost one reconnects with backoff and reports `onReconnect` for the notifications it missed.
 */
import pg from 'pg';
import { listenerBackoffMs } from '../relay.ts';

/** The channel the run-change triggers notify. */
export const runChangesChannel = 'upshift_run';

/** What a run-change listener reports. */
export interface RunChangeHandlers {
  /** A run (its row, a step, or an event produced for it) changed in a committed transaction. */
  readonly onRunChanged: (runId: string) => void;
  /** The connection was lost and is back: changes in between were not notified, re-read what is shown. */
  readonly onReconnect?: () => void;
  /** The connection failed (it is retried); for a log line. */
  readonly onError?: (error: Error) => void;
}

/** A listening connection; `stop` closes it for good. */
export interface RunChangeListener {
  /** Resolves once the first LISTEN succeeded or failed (it keeps trying in the background either way). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** Opens one LISTEN connection to the control store and keeps it open until `stop`. */
export function listenRunChanges(databaseUrl: string, handlers: RunChangeHandlers): RunChangeListener {
  let client: pg.Client | undefined;
  let stopped = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;

  const lost = (from: pg.Client, error: Error | undefined): void => {
    if (client !== from) return;
    client = undefined;
    if (error) handlers.onError?.(error);
    void from.end().catch(() => undefined);
    later();
  };
  const later = (): void => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch(() => undefined); // connect reports its own failures and never rejects
    }, listenerBackoffMs(failures));
    failures += 1;
    retry.unref();
  };
  const connect = async (): Promise<void> => {
    // TCP keepalive: a connection that only listens sends nothing, so a silently dead one is found this way.
    const next = new pg.Client({ connectionString: databaseUrl, application_name: 'upshift-dashboard-listen', connectionTimeoutMillis: 5000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    next.on('notification', (message) => {
      if (message.channel === runChangesChannel && message.payload) handlers.onRunChanged(message.payload);
    });
    next.on('error', (error) => lost(next, error));
    next.on('end', () => lost(next, undefined));
    try {
      await next.connect();
      await next.query(`LISTEN ${runChangesChannel}`);
    } catch (error) {
      handlers.onError?.(error as Error);
      await next.end().catch(() => undefined);
      later();
      return;
    }
    if (stopped) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    if (failures > 0) handlers.onReconnect?.();
    failures = 0;
  };

  const ready = connect();
  return {
    ready,
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      const open = client;
      client = undefined;
      await ready;
      await open?.end().catch(() => undefined);
    },
  };
}
