/**
 * The outbox relay: after commit, publishes pending outbox rows to Kafka and marks them sent. Woken by
 * LISTEN/NOTIFY (a commit of its own process names it; one with no relay of its own wakes every relay)
 * and directly by the in-process handler, with a polling fallback that also covers rows left behind by
 * a crash between commit and publish. A crash after publish and before "mark sent"
 * publishes again on restart: delivery is at-least-once and consumers dedupe on (source, id).
 * A lost LISTEN connection reconnects with backoff on its own while the poll keeps publishing. A row
 * that can never be published (too large for the broker, not a valid event) is set aside with its
 * reason and logged, so it never stops the rows behind it (relay-records.ts sorts and sizes them).
 */
import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import pg from 'pg';
import type { Pool } from 'pg';
import type { Logger } from '../log.ts';
import type { Publisher } from '../transport/types.ts';
import { outboxChannel, beginAndClaimPending, markSentStatement, setAside } from './outbox.ts';
import type { PendingOutboxRow, SetAsideRow } from './outbox.ts';
import { withTransactionFinishing } from './pool.ts';
import type { TxClient } from './pool.ts';
import { chunksOf, defaultMaxRecordBytes, isTooLarge, sortRows, tooLargeReason } from './relay-records.ts';
import type { PreparedRow } from './relay-records.ts';

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
  /**
   * The largest Kafka record, and the most bytes sent in one publish (default 1,000,000, under Kafka's
   * default `message.max.bytes`). A bigger row is set aside with its reason instead of blocking the rows
   * behind it; so is a row the broker itself refuses as too large.
   */
  readonly maxRecordBytes?: number;
}

/** Publishes the outbox; one per process is enough, several are safe (SKIP LOCKED). */
export class OutboxRelay {
  /**
   * This relay's name in NOTIFY payloads: a commit that names it wakes it alone (its process wrote the
   * rows); one that names no relay wakes all. Rows whose writer died before its relay published them
   * are found by any relay's poll.
   */
  readonly id = `${process.pid}-${randomUUID()}`;
  #options: RelayOptions;
  #listener: pg.Client | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #failedListens = 0;
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
    this.#startDrain();
  }

  /** Resolves once no drain is running (the one `start` began included). */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
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

  /** Stops waking and reconnecting, waits for the current drain, closes the listener. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#scheduled);
    clearTimeout(this.#reconnect);
    await this.#draining;
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
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
  }

  /**
   * Claims rows (with BEGIN, one round trip), publishes them in order, in publishes under the size limit,
   * and marks them sent (with COMMIT, one round trip). A row that can never be published (not a valid
   * event, too large) is set aside with its reason, so one bad row never stops the rows behind it; any
   * other failure leaves the whole batch for the next drain.
   */
  async #publishBatch(limit: number): Promise<number> {
    const claim = (client: TxClient): Promise<PendingOutboxRow[]> => beginAndClaimPending(client, limit);
    return withTransactionFinishing(this.#options.pool, claim, async (tx, rows) => {
      if (rows.length === 0) return { value: 0 };
      const maxBytes = this.#options.maxRecordBytes ?? defaultMaxRecordBytes;
      const sorted = sortRows(rows, maxBytes);
      const refused: SetAsideRow[] = [...sorted.setAside];
      for (const chunk of chunksOf(sorted.publishable, maxBytes)) refused.push(...await this.#publishChunk(chunk));
      const refusedSeqs = new Set(refused.map((row) => row.seq));
      const sent = sorted.publishable.filter((row) => !refusedSeqs.has(row.seq)).map((row) => row.seq);
      await this.#setAside(tx, rows, refused);
      if (sent.length > 0) this.#options.onPublished?.(sent.length);
      if (sorted.unknown.length > 0) this.#options.log.warn({ seqs: sorted.unknown.slice(0, 20) }, 'outbox rows of a type this version does not know: left for a relay that does');
      return { value: rows.length - sorted.unknown.length, beforeCommit: markSentStatement(tx, sent) };
    });
  }

  /** Publishes a chunk; when the broker refuses it as too large, its rows one by one, returning those refused alone. */
  async #publishChunk(chunk: readonly PreparedRow[]): Promise<SetAsideRow[]> {
    if (chunk.length > 1) {
      try {
        await this.#options.publisher.publish(chunk.map((row) => row.message));
        return [];
      } catch (err) {
        if (!isTooLarge(err)) throw err;
      }
    }
    const refused: SetAsideRow[] = [];
    for (const row of chunk) {
      try {
        await this.#options.publisher.publish([row.message]);
      } catch (err) {
        if (!isTooLarge(err)) throw err;
        refused.push({ seq: row.seq, reason: tooLargeReason(row.bytes, 'the broker accepts') });
      }
    }
    return refused;
  }

  /** Records the rows set aside and reports each: an event that will never reach its consumer. */
  async #setAside(tx: TxClient, rows: readonly PendingOutboxRow[], refused: readonly SetAsideRow[]): Promise<void> {
    if (refused.length === 0) return;
    await setAside(tx, refused);
    const bySeq = new Map(rows.map((row) => [row.seq, row]));
    for (const { seq, reason } of refused) {
      const event = bySeq.get(seq)?.event ?? {};
      const { id, type, subject } = event as { id?: unknown; type?: unknown; subject?: unknown };
      this.#options.log.error({ seq, id: short(id), type: short(type), subject: short(subject), topic: bySeq.get(seq)?.topic, reason }, 'outbox record set aside: it cannot be published');
    }
  }

  /**
   * Opens the LISTEN connection. Never throws and never holds up a drain: when it cannot connect, or
   * later loses the connection, it tries again after a backoff (`listenerBackoffMs`) and the poll
   * publishes meanwhile. Once back, it wakes a drain for the commits whose NOTIFY it missed.
   */
  async #listen(): Promise<void> {
    if (this.#stopped) return;
    // TCP keepalive: a connection that only listens sends nothing, so a silently dead one is found this way.
    const client = new pg.Client({
      connectionString: this.#options.databaseUrl, application_name: 'upshift-relay',
      connectionTimeoutMillis: 5000, keepAlive: true, keepAliveInitialDelayMillis: 10_000,
    });
    client.on('notification', (message) => {
      if (!message.payload || message.payload === this.id) this.wake(); // another process's commit is its own relay's
    });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, undefined));
    try {
      await client.connect();
      await client.query(`LISTEN ${outboxChannel}`);
    } catch (err) {
      this.#options.log.warn({ err, attempt: this.#failedListens + 1 }, 'outbox listener unavailable; polling until it reconnects');
      await client.end().catch(() => undefined);
      this.#listenLater();
      return;
    }
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#listener = client;
    if (this.#failedListens > 0) {
      this.#options.log.info({ attempts: this.#failedListens }, 'outbox listener reconnected');
      this.wake();
    }
    this.#failedListens = 0;
  }

  /** The listening connection failed or ended: drop it and reconnect later (a client still connecting is #listen's). */
  #lost(client: pg.Client, err: Error | undefined): void {
    if (this.#listener !== client) return;
    this.#listener = undefined;
    this.#options.log.warn({ err }, 'outbox listener lost; polling until it reconnects');
    void client.end().catch(() => undefined);
    this.#listenLater();
  }

  #listenLater(): void {
    if (this.#stopped || this.#reconnect) return;
    const delayMs = listenerBackoffMs(this.#failedListens);
    this.#failedListens += 1;
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      this.#listen().catch(() => undefined); // #listen reports its own failures and never rejects
    }, delayMs);
    this.#reconnect.unref();
  }
}

/**
 * The wait before reconnecting the listener after `failures` failed attempts in a row: a ceiling of
 * 100 ms doubling up to 10 s, and a random wait between half of it and all of it, so that the instances
 * that lost their listeners together (a database restart) do not all reconnect at the same moment.
 */
export function listenerBackoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(10_000, 100 * 2 ** Math.min(failures, 20));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** An attribute of a stored event for a log line: text, cut short (a row set aside may hold anything). */
function short(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 200) : undefined;
}
