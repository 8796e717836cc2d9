/**
 * The outbox relay: after commit, publishes pending outbox rows to Kafka and marks them sent. Woken by
 * LISTEN/NOTIFY (and directly by the in-process handler), with a polling fallback that also covers rows
 * left behind by a crash between commit and publish. A crash after publish and before "mark sent"
 * publishes again on restart: delivery is at-least-once and consumers dedupe on (source, id).
 */
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import pg from 'pg';
import type { Pool } from 'pg';
import { decode } from '@upshift/events';
import type { Logger } from '../log.ts';
import type { Publisher } from '../transport/types.ts';
import { outboxChannel, claimPending, markSent } from './outbox.ts';
import type { PendingOutboxRow } from './outbox.ts';
import { withTransaction } from './pool.ts';

/** Options of the relay. */
export interface RelayOptions {
  readonly pool: Pool;
  readonly databaseUrl: string;
  readonly publisher: Publisher;
  readonly log: Logger;
  readonly pollMs: number;
  readonly batchSize?: number;
  /** How long a wake waits so that commits close together share one publish (default 2 ms). */
  readonly coalesceMs?: number;
  /** Called with the number of events each publish sent (metrics). */
  readonly onPublished?: (count: number) => void;
}

/** Publishes the outbox; one per process is enough, several are safe (SKIP LOCKED). */
export class OutboxRelay {
  #options: RelayOptions;
  #listener: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #scheduled: NodeJS.Timeout | undefined;
  #again = false;
  #stopped = false;
  /** Time of the last drain that ended without error (liveness). */
  lastHealthyAt = Date.now();

  constructor(options: RelayOptions) {
    this.#options = options;
  }

  /** Starts listening and polling, and publishes whatever is already pending. */
  async start(): Promise<void> {
    await this.#listen();
    this.#timer = setInterval(() => this.wake(), this.#options.pollMs);
    this.#timer.unref();
    this.wake();
  }

  /**
   * Asks for a drain soon. Wakes are coalesced: one drain starts `coalesceMs` after the first wake
   * (commits arriving meanwhile share its batch), and wakes during a drain make it go round again.
   */
  wake(): void {
    if (this.#stopped) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = setTimeout(() => this.#startDrain(), this.#options.coalesceMs ?? 2);
  }

  #startDrain(): void {
    this.#scheduled = undefined;
    if (this.#stopped || this.#draining) return;
    // The relay's own queries are not traced (polls would flood the backend); each send re-enters the
    // trace of the event it publishes (KafkaPublisher), so producer spans join the run's trace.
    this.#draining = context.with(suppressTracing(ROOT_CONTEXT), () => this.#drain()).finally(() => {
      this.#draining = undefined;
    });
  }

  /** Stops waking, waits for the current drain, closes the listener. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#scheduled);
    await this.#draining;
    await this.#listener?.end().catch(() => undefined);
    this.#listener = undefined;
  }

  async #drain(): Promise<void> {
    const batchSize = this.#options.batchSize ?? 200;
    try {
      let sent: number;
      do {
        this.#again = false;
        sent = await this.#publishBatch(batchSize);
      } while (!this.#stopped && (sent === batchSize || this.#again));
      this.lastHealthyAt = Date.now();
    } catch (err) {
      this.#options.log.warn({ err }, 'outbox relay could not publish; will retry');
    }
    if (!this.#listener && !this.#stopped) await this.#listen();
  }

  async #publishBatch(limit: number): Promise<number> {
    return withTransaction(this.#options.pool, async (tx) => {
      const rows = await claimPending(tx, limit);
      if (rows.length === 0) return 0;
      await this.#options.publisher.publish(rows.map(toOutgoing));
      await markSent(tx, rows.map((row) => row.seq));
      this.#options.onPublished?.(rows.length);
      return rows.length;
    });
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.databaseUrl, application_name: 'upshift-relay' });
    client.on('notification', () => this.wake());
    client.on('error', (err) => {
      this.#options.log.warn({ err }, 'outbox listener lost; polling until it reconnects');
      this.#listener = undefined;
      void client.end().catch(() => undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${outboxChannel}`);
      this.#listener = client;
    } catch (err) {
      this.#options.log.warn({ err }, 'outbox listener unavailable; polling');
      await client.end().catch(() => undefined);
    }
  }
}

function toOutgoing(row: PendingOutboxRow): { topic: string; key: string | undefined; event: ReturnType<typeof decode> } {
  return { topic: row.topic, key: row.partitionKey ?? undefined, event: decode(row.event) };
}
