/**
 * The online bench's PostgreSQL writer in a worker thread of its own (issue 20): in the bench's main
 * thread its writes waited for the event loop that also drives the backfill (4 shard loops, their
 * throttle's looks and slots, the wait sampler) — a lag no application beside a migrate-shard pod has.
 * In its own thread the writer shares only the machine's cores. One thread and its pool of 32 warm
 * connections serve every phase; its writes' times come back on the main thread's clock.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import pg from 'pg';
import { startWriter, type RunningWriter, type WriterFigures } from './online-writer.ts';
import { timedPostgresWriter, writerApplicationName, type TimedWrite } from './online-waits.ts';

/** What the writer of one phase does. */
export interface WriterRun {
  table: string;
  perSecond: number;
  existing: number;
  firstNewKey: number;
}

type Command = ({ kind: 'start' } & WriterRun) | { kind: 'stop' } | { kind: 'close' };
type Reply = { kind: 'ready' } | { kind: 'started' } | { kind: 'stopped'; figures: WriterFigures; writes: TimedWrite[]; timeOrigin: number } | { kind: 'error'; message: string };

/** What a stopped writer measured, its writes on the main thread's clock. */
export interface ThreadWriterResult {
  figures: WriterFigures;
  writes: TimedWrite[];
}

/** The writer thread, seen from the bench. */
export class WriterThread {
  readonly #worker: Worker;
  readonly #replies: Reply[] = [];
  #waiting: ((reply: Reply) => void) | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: Reply) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting(reply);
      else this.#replies.push(reply);
    });
  }

  /** Starts the thread and waits until its pool's connections to `url` are made. */
  static async open(url: string): Promise<WriterThread> {
    const thread = new WriterThread(new Worker(new URL(import.meta.url), { workerData: { onlineWriterUrl: url } }));
    await thread.#reply('ready');
    return thread;
  }

  /** Starts writing; resolves when the first write is due. */
  async start(run: WriterRun): Promise<void> {
    this.#worker.postMessage({ kind: 'start', ...run } satisfies Command);
    await this.#reply('started');
  }

  /** Stops writing and waits for the writes in flight. */
  async stop(): Promise<ThreadWriterResult> {
    this.#worker.postMessage({ kind: 'stop' } satisfies Command);
    const reply = await this.#reply('stopped');
    const shift = reply.timeOrigin - performance.timeOrigin;
    return {
      figures: reply.figures,
      writes: reply.writes.map((w) => ({ ...w, scheduled: w.scheduled + shift, called: w.called + shift, acquired: w.acquired + shift, done: w.done + shift })),
    };
  }

  /** Ends the pool and the thread. */
  async close(): Promise<void> {
    this.#worker.postMessage({ kind: 'close' } satisfies Command);
    await new Promise((resolve) => this.#worker.once('exit', resolve));
  }

  async #reply<K extends Reply['kind']>(kind: K): Promise<Extract<Reply, { kind: K }>> {
    const reply = this.#replies.shift() ?? await new Promise<Reply>((resolve) => { this.#waiting = resolve; });
    if (reply.kind === 'error') throw new Error(`online writer thread: ${reply.message}`);
    if (reply.kind !== kind) throw new Error(`online writer thread: ${reply.kind} where ${kind} was expected`);
    return reply as Extract<Reply, { kind: K }>;
  }
}

/** The thread's side: a warm pool, one writer at a time. */
async function serveWriter(url: string): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const send = (reply: Reply) => port.postMessage(reply);
  const pool = new pg.Pool({ connectionString: url, max: 32, application_name: writerApplicationName });
  await Promise.all(Array.from({ length: 32 }, () => pool.query('SELECT 1')));
  let running: { writer: RunningWriter; writes: TimedWrite[] } | undefined;
  port.on('message', (command: Command) => {
    void (async () => {
      if (command.kind === 'start') {
        const writes: TimedWrite[] = [];
        running = { writes, writer: startWriter(timedPostgresWriter(pool, command.table, writes), command) };
        send({ kind: 'started' });
      } else if (command.kind === 'stop' && running) {
        const figures = await running.writer.stop();
        send({ kind: 'stopped', figures, writes: running.writes, timeOrigin: performance.timeOrigin });
        running = undefined;
      } else if (command.kind === 'close') {
        await running?.writer.stop(); // a phase that failed left its writer on
        await pool.end();
        port.close();
      }
    })().catch((error: unknown) => send({ kind: 'error', message: error instanceof Error ? error.message : String(error) }));
  });
  send({ kind: 'ready' });
}

const onlineWriterUrl = (workerData as { onlineWriterUrl?: string } | null)?.onlineWriterUrl;
if (!isMainThread && onlineWriterUrl) await serveWriter(onlineWriterUrl);
