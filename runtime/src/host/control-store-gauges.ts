/**
 * Gauges read from the control store when Prometheus scrapes: the outbox lag (oldest unpublished record
 * age, backlog size) and the longest an active run has gone without a change (the "run stuck" alert).
 * Every function serves them (they describe the shared store: alert on `max`). A scrape never waits on
 * a slow or unreachable store for long: past `timeoutMs` the gauges keep their last values. The idle-run
 * measure (the watchdog's: runs, steps and outbox) is read at most every `idleEveryMs`, however often
 * Prometheus scrapes and however many instances serve it.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Queryable } from '../store/leases.ts';
import { longestRunIdleSeconds, outboxLag } from '../store/gauges.ts';

/** Lets the host hand over the control store once it is open (the registry exists before). */
export interface ControlStoreGauges {
  observe(db: Queryable | undefined): void;
}

/** Registers the gauges; they read nothing until `observe` gives them a store. */
export function createControlStoreGauges(registry: Registry, timeoutMs = 2000, idleEveryMs = 30_000): ControlStoreGauges {
  let store: Queryable | undefined;
  let idleReadAt = 0;
  const registers = [registry];
  const pending = new Gauge({ name: 'upshift_outbox_pending_records', help: 'Outbox records not yet published to Kafka.', registers });
  new Gauge({
    name: 'upshift_outbox_oldest_unpublished_age_seconds', help: 'Age of the oldest outbox record not yet published (0 when none): the relay\'s lag.', registers,
    async collect() {
      const lag = store && await withinTimeout(outboxLag(store), timeoutMs);
      if (!lag) return;
      this.set(lag.oldestAgeSeconds);
      pending.set(lag.pending);
    },
  });
  new Gauge({
    name: 'upshift_run_longest_idle_seconds', help: 'Seconds since the quietest active run last changed (0 when no run is active).', registers,
    async collect() {
      if (!store || Date.now() - idleReadAt < idleEveryMs) return;
      idleReadAt = Date.now();
      const idle = await withinTimeout(longestRunIdleSeconds(store), timeoutMs);
      if (idle !== undefined) this.set(idle);
    },
  });
  return { observe: (db) => { store = db; } };
}

/** The value, or undefined when it failed or took longer than `ms`. */
async function withinTimeout<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  try {
    return await Promise.race([work.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
