/**
 * defineFunction: turns a handler into a Knative-functions-shaped module (`handle(context, event)`,
 * `init`, `shutdown`, `readiness`, `liveness`) that runs under faas-js-runtime or our host. The module
 * owns the control-store pool, the Kafka publisher and the outbox relay, and runs every event through
 * the exactly-once path in handle-event.ts.
 */
import type { AnyUpshiftEvent, EventData, EventName, FunctionName, UpshiftEvent } from '@upshift/events';
import type { Pool } from 'pg';
import type { z } from 'zod';
import type { HostConfig } from '../config.ts';
import type { DeadLetter } from '../lifecycle/dead-letters.ts';
import type { Logger } from '../log.ts';
import type { TxClient } from '../store/pool.ts';
import type { Publisher } from '../transport/types.ts';
import { decideWithoutEvent, handleEvent } from './handle-event.ts';
import type { HandleResult } from './handle-event.ts';
import { checkHealth, replyIfFastify } from './health.ts';
import type { HealthReport } from './health.ts';
import { openResources, closeResources } from './resources.ts';
import type { Resources } from './resources.ts';
import { createFunctionMetrics } from './metrics.ts';
import type { FunctionMetrics } from './metrics.ts';

/** What a handler may do inside the handling transaction: write through `tx` and emit events. */
export interface Decision {
  /** The handling transaction: committed together with the inbox claim and the outbox. */
  readonly tx: TxClient;
  /**
   * Produces an event in this transaction (published after commit). Its id derives from the input
   * event and `key` (default: emit order), so a re-run after a rollback emits the same ids.
   */
  emit<N extends EventName>(name: N, data: EventData<N>, options?: { key?: string }): UpshiftEvent<N>;
  /** Puts an event produced before back in the outbox, published again as it is (a dead letter redriven). */
  redrive(event: AnyUpshiftEvent): Promise<void>;
}

/**
 * What a handler gets besides the event. A handler looks (reads `store`, asks Kubernetes, works a shard
 * under its lease), then decides once: `decide` opens the handling transaction, claims the inbox, runs
 * the decision and stores what it emitted in the outbox. No transaction is open while the handler waits.
 */
export interface HandlerContext<C extends HostConfig = HostConfig> {
  readonly log: Logger;
  readonly config: C;
  /** The control store, for looking and for work that commits on its own (leases, checkpoints); never the handling transaction. */
  readonly store: Pool;
  /**
   * Runs `decision` in the handling transaction and commits it with the inbox claim and the outbox.
   * Call it at most once, after the waiting is done; a handler that never calls it decides nothing
   * (the event is marked handled). Resolves undefined when a concurrent delivery of the same event
   * decided first (its outputs are replayed and this decision is dropped).
   */
  decide<T>(decision: (d: Decision) => Promise<T>): Promise<T | undefined>;
  /**
   * Puts an event in the outbox within `tx`, a transaction of the handler's own (a checkpoint's), so it
   * is published when that commits, not when the handling does. Not replayed on redelivery: for
   * progress reports. Its id derives from the input event and `key`.
   */
  emitIn<N extends EventName>(tx: TxClient, name: N, data: EventData<N>, options: { key: string }): Promise<UpshiftEvent<N>>;
}

/** Dependencies handed to a function's own init/readiness. */
export interface FunctionDeps<C extends HostConfig = HostConfig> {
  readonly config: C;
  readonly pool: Pool;
  readonly log: Logger;
  readonly metrics: FunctionMetrics;
  /**
   * A decision no event caused (a timer's, e.g. the run watchdog): one transaction with the outbox; the
   * ids of its events derive from `cause`, so deciding the same cause again emits the same ids.
   */
  decide<T>(cause: string, decision: (d: Decision) => Promise<T>): Promise<T>;
}

/** What a function author writes. */
export interface FunctionDefinition<C extends HostConfig = HostConfig> {
  /** The catalogue function name: decides `source`, routing and the consumer group. */
  readonly name: FunctionName;
  /** The process config schema (HostConfig extended); defaults to HostConfig. */
  readonly config?: z.ZodType<C>;
  /** Handles one decoded event: looks, then decides once (`ctx.decide`); a domain failure emits `*.failed`. */
  handle(ctx: HandlerContext<C>, event: AnyUpshiftEvent): Promise<void>;
  /**
   * Handles a dead-lettered event of any type (the dead-letter topic is routed to this function): the
   * delivery's attributes say where it was going and why it was given up on. Looks, then decides once.
   */
  deadLetters?(ctx: HandlerContext<C>, event: AnyUpshiftEvent, letter: DeadLetter): Promise<void>;
  init?(deps: FunctionDeps<C>): Promise<void>;
  shutdown?(deps: FunctionDeps<C>): Promise<void>;
  /** Extra readiness checks (e.g. a Kubernetes API); throw when not ready. */
  readiness?(deps: FunctionDeps<C>): Promise<void>;
}

/** Overrides for tests: another environment or transport. */
export interface InitOverrides {
  readonly env?: NodeJS.ProcessEnv;
  readonly publisher?: Publisher;
}

/** The Knative functions module shape (faas-js-runtime), plus what our host uses. */
export interface FunctionModule {
  readonly name: FunctionName;
  readonly metrics: FunctionMetrics;
  init(overrides?: InitOverrides): Promise<void>;
  shutdown(): Promise<void>;
  handle(context: unknown, event: unknown): Promise<HandleResult>;
  readiness(request?: unknown, reply?: unknown): Promise<HealthReport>;
  liveness(request?: unknown, reply?: unknown): Promise<HealthReport>;
  /** The open resources, once init ran (tests and the dev runner). */
  resources(): Resources | undefined;
}

/** Builds the module for `definition`; export its members from the function's index.ts. */
export function defineFunction<C extends HostConfig>(definition: FunctionDefinition<C>): FunctionModule {
  const metrics = createFunctionMetrics(definition.name);
  let resources: Resources<C> | undefined;
  const deps = (r: Resources<C>): FunctionDeps<C> => ({
    config: r.config, pool: r.pool, log: r.log, metrics, decide: (cause, decision) => decideWithoutEvent(definition, r, cause, decision, metrics),
  });
  return {
    name: definition.name,
    metrics,
    async init(overrides = {}) {
      resources ??= await openResources(definition, metrics, overrides);
      await definition.init?.(deps(resources));
    },
    async shutdown() {
      if (!resources) return;
      const open = resources;
      resources = undefined;
      metrics.controlStore.observe(undefined);
      await definition.shutdown?.(deps(open)).catch(() => undefined);
      await closeResources(open);
    },
    handle: (context, event) => handleEvent(definition, resources, metrics, event, context),
    async readiness(_request, reply) {
      const report = await checkHealth(resources, 'readiness', resources && definition.readiness ? () => definition.readiness!(deps(resources!)) : undefined);
      return replyIfFastify(reply, report);
    },
    async liveness(_request, reply) {
      return replyIfFastify(reply, await checkHealth(resources, 'liveness'));
    },
    resources: () => resources,
  };
}
