/**
 * Following one run until it ends: lifecycle events from Kafka as they happen, plus the control store
 * (the run's outbox events and live shard checkpoints) polled every second — so a watch started late,
 * or on a finished run, shows everything. Used by `upshift watch` and by the demo.
 */
import type { AnyUpshiftEvent } from '@upshift/events';
import type pg from 'pg';
import { jsonForTerminal, line } from '../escape.ts';
import { describeError } from '../error-text.ts';
import { followLifecycle, type LifecycleFeed } from './lifecycle.ts';
import { changedLines, isProgressLine, renderFrame, viewToJson } from './render.ts';
import { applyEvents, applyShardCheckpoints, emptyView, withExpectedRows, withRunRow, type RunView } from './state.ts';
import { hasControlStore, readRun, readRunEvents, readShardCheckpoints, storePool, type Queryable } from './store.ts';

/** How the view is written: redrawn (TTY), changed lines (pipe/log), or one JSON document per change. */
export type DisplayMode = 'tty' | 'lines' | 'json';

/** Options of followRun. */
export interface FollowOptions {
  readonly runId: string;
  readonly brokers?: readonly string[];
  /** Topic prefix of the functions (UPSHIFT_TOPIC_PREFIX); default none. */
  readonly topicPrefix?: string;
  readonly databaseUrl?: string;
  readonly mode: DisplayMode;
  readonly write: (text: string) => void;
  /** Rows/documents each migration is expected to change (bar and ETA by rows). */
  readonly expectedRows?: Readonly<Record<string, number>>;
  readonly pollMs?: number;
  /** Give up after this long (the view returned has no outcome). */
  readonly timeoutMs?: number;
  /** Called with every new lifecycle event from Kafka (the demo logs nothing else). */
  readonly onEvent?: (event: AnyUpshiftEvent) => void;
  /** The Jaeger UI: the trace line of the frame links the run's trace there. */
  readonly jaegerUrl?: string;
}

/** Writes frames: remembers the last one so unchanged views are not repeated. */
export function createDisplay(mode: DisplayMode, write: (text: string) => void, jaegerUrl?: string): { show(view: RunView, now: number): void; last(): string } {
  let previous = '';
  let progressAt = 0;
  /** Lines mode: state changes print at once; progress lines at most every 5 s (and at the end). */
  const logChanges = (view: RunView, frame: string, now: number): string => {
    const due = now - progressAt >= 5000 || view.outcome !== undefined;
    const lines = changedLines(previous, frame).filter((line) => due || !isProgressLine(line));
    if (lines.some(isProgressLine)) progressAt = now;
    for (const line of lines) write(`${line}\n`);
    if (due) return frame;
    return [...frame.split('\n').filter((l) => !isProgressLine(l)), ...previous.split('\n').filter(isProgressLine)].join('\n');
  };
  return {
    show(view, now) {
      const frame = mode === 'json' ? `${jsonForTerminal(viewToJson(view))}\n` : renderFrame(view, now, jaegerUrl);
      if (mode === 'tty') write(`\x1b[2J\x1b[H${frame}`);
      else if (mode === 'json' && frame !== previous) write(frame);
      previous = mode === 'lines' ? logChanges(view, frame, now) : frame;
    },
    last: () => previous,
  };
}

/** One poll of the control store: new outbox events, shard checkpoints, and the run's final status. */
async function pollStore(db: Queryable, view: RunView, cursor: { seq: number }, now: number): Promise<RunView> {
  const run = await readRun(db, view.runId);
  const { events, lastSeq } = await readRunEvents(db, view.runId, cursor.seq);
  cursor.seq = lastSeq;
  let next = applyEvents(view, events);
  next = applyShardCheckpoints(next, await readShardCheckpoints(db, view.runId), now);
  return withRunRow(next, run);
}

async function openStore(url: string | undefined, warn: (text: string) => void): Promise<pg.Pool | undefined> {
  if (!url) return undefined;
  const db = storePool(url);
  try {
    if (await hasControlStore(db)) return db;
    warn(line('the database has no upshift control store; following Kafka only'));
  } catch (error) {
    warn(line(`control store not reachable (${describeError(error)}); following Kafka only`));
  }
  await db.end();
  return undefined;
}

/**
 * Polls the store, riding out a control store that stops answering for a while: the view stays as it
 * was, one line says why, and the next poll tries again (the pool reconnects).
 */
function resilientPoll(warn: (text: string) => void): (db: Queryable, view: RunView, cursor: { seq: number }, now: number) => Promise<RunView> {
  let failing = false;
  return async (db, view, cursor, now) => {
    try {
      const next = await pollStore(db, view, cursor, now);
      if (failing) warn(line('control store reachable again'));
      failing = false;
      return next;
    } catch (error) {
      if (!failing) warn(line(`control store not answering (${describeError(error)}); retrying every poll`));
      failing = true;
      return view;
    }
  };
}

/** Follows the run until its terminal event (or the timeout); returns the last view. */
export async function followRun(options: FollowOptions): Promise<RunView> {
  const display = createDisplay(options.mode, options.write, options.jaegerUrl);
  const warn = (text: string): void => void process.stderr.write(`upshift watch: ${text}`);
  const db = await openStore(options.databaseUrl, warn);
  const poll = resilientPoll(warn);
  const cursor = { seq: 0 };
  let view = withExpectedRows(emptyView(options.runId), options.expectedRows ?? {});
  try {
    if (db) view = await poll(db, view, cursor, Date.now());
    if (view.outcome) {
      options.write(options.mode === 'json' ? `${jsonForTerminal(viewToJson(view))}\n` : renderFrame(view, Date.now(), options.jaegerUrl));
      return view;
    }
    view = await followLive(options, display, db, view, cursor, poll);
  } finally {
    await db?.end();
  }
  if (options.mode === 'lines' && view.outcome) options.write(`\n${renderFrame(view, Date.now(), options.jaegerUrl)}`);
  return view;
}

async function followLive(options: FollowOptions, display: ReturnType<typeof createDisplay>, db: pg.Pool | undefined, start: RunView, cursor: { seq: number }, poll: ReturnType<typeof resilientPoll>): Promise<RunView> {
  const pending: AnyUpshiftEvent[] = [];
  let wake: () => void = () => undefined;
  const onEvent = (e: AnyUpshiftEvent): void => { pending.push(e); options.onEvent?.(e); wake(); };
  const kafka: LifecycleFeed | undefined = options.brokers && options.brokers.length > 0
    ? await followLifecycle(options.brokers, options.topicPrefix ?? '', options.runId, onEvent)
    : undefined;
  if (!kafka && !db) throw new Error('neither Kafka nor the control store is reachable');
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let view = start;
  try {
    for (;;) {
      if (db) view = await poll(db, view, cursor, Date.now());
      view = applyEvents(view, pending.splice(0));
      display.show(view, Date.now());
      if (view.outcome || Date.now() > deadline) return view;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs ?? 1000);
        wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  } finally {
    await kafka?.stop();
  }
}
