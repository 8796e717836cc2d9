/**
 * The run's controls as one shard invocation honours them: before the first batch and after every
 * committed batch it reads the run's status and control state (one primary-key read), pauses (the shard
 * is handed over to a continuation, which the host holds while the run is paused) or stops (the run has
 * ended), and paces the next batch by the operator's throttle — checking again every second while it
 * waits, so a pause or a new throttle takes effect within one batch. Batches are capped by the throttle
 * through the engine (`throttledEngine`), on top of the adaptive batch size.
 */
import type { Throttle } from '@upshift/events';
import { shardControlOf, type Queryable } from '@upshift/runtime';
import type { MigrationEngine } from '@upshift/migrations';
import { cappedBatchSize, nextBatchAt, shardGate, type ShardGate } from './core/pacing.ts';
import { abortableSleep } from './abortable-sleep.ts';

/** The step status a worker reports when the run's pause stops it (not a stored status). */
export const pausedByOperator = 'paused';

/** How long a worker waits between two looks at the control state while it paces. */
const lookEveryMs = 1000;

/** One invocation's view of its run's controls. */
export class ShardControls {
  readonly #store: Queryable;
  readonly #runId: string;
  readonly #signal: AbortSignal;
  /** The invocation's budget ends then: pacing never waits past it (the continuation goes on). */
  readonly #until: number;
  #throttle: Throttle | undefined;
  #batchStartedAt = Date.now();
  #scanned: number;

  constructor(options: { store: Queryable; runId: string; signal: AbortSignal; until: number; scanned: number }) {
    this.#store = options.store;
    this.#runId = options.runId;
    this.#signal = options.signal;
    this.#until = options.until;
    this.#scanned = options.scanned;
  }

  /** Reads the run's status and control state (one primary-key read) and says what to do. */
  async look(): Promise<ShardGate> {
    const control = await shardControlOf(this.#store, this.#runId);
    this.#throttle = control.throttle;
    return shardGate(control);
  }

  /**
   * After a committed batch (`scanned`: the shard's rows scanned so far): waits until the throttle lets
   * the next batch start, looking at the controls every second meanwhile, and returns the step status
   * to go on with: `running`, `paused` (`pausedByOperator`), or why the run stopped.
   */
  async afterBatch(scanned: number): Promise<string> {
    const batch = { rows: Math.max(0, scanned - this.#scanned), startedAt: this.#batchStartedAt, endedAt: Date.now() };
    this.#scanned = scanned;
    for (;;) {
      const gate = await this.look();
      if (gate.kind === 'pause') return pausedByOperator;
      if (gate.kind === 'stop') return gate.why;
      const wait = Math.min(nextBatchAt(this.#throttle, batch), this.#until) - Date.now();
      if (wait <= 0 || this.#signal.aborted) break;
      await abortableSleep(Math.min(wait, lookEveryMs), this.#signal);
    }
    this.#batchStartedAt = Date.now();
    return 'running';
  }

  /** The engine with every batch capped by the throttle as last read (the adaptive size is kept underneath). */
  throttledEngine(engine: MigrationEngine): MigrationEngine {
    return new Proxy(engine, {
      get: (target, property) => {
        if (property === 'runBatch') {
          return (request: Parameters<MigrationEngine['runBatch']>[0]) => target.runBatch({ ...request, batchSize: cappedBatchSize(request.batchSize, this.#throttle) });
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
