/**
 * Prometheus metrics every function serves at /metrics: event handling, the domain metrics
 * (domain-metrics.ts) and the control-store gauges read at scrape time (control-store-gauges.ts).
 * knative/monitoring's rules and dashboard name only metrics defined here (a test checks it).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createControlStoreGauges } from './control-store-gauges.ts';
import type { ControlStoreGauges } from './control-store-gauges.ts';
import { createDomainMetrics } from './domain-metrics.ts';
import type { DomainMetrics } from './domain-metrics.ts';

/** The metrics of one function instance. */
export interface FunctionMetrics {
  readonly registry: Registry;
  readonly handled: Counter<'type' | 'outcome'>;
  readonly handlingSeconds: Histogram<'type'>;
  readonly published: Counter;
  /** Records migrated, batch and shard durations, outcomes of runs, waves and shards, dead letters. */
  readonly domain: DomainMetrics;
  /** Outbox lag and idle runs, read from the control store at scrape time once `observe`d. */
  readonly controlStore: ControlStoreGauges;
}

/** Creates the registry with default process metrics and the event-handling metrics. */
export function createFunctionMetrics(functionName: string): FunctionMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ function: functionName });
  collectDefaultMetrics({ register: registry });
  const handled = new Counter({
    name: 'upshift_events_handled_total',
    help: 'Events handled, by type and outcome (ok, duplicate, or the error code).',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const handlingSeconds = new Histogram({
    name: 'upshift_event_handling_seconds',
    help: 'Time from receiving an event to committing its effects.',
    labelNames: ['type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const published = new Counter({
    name: 'upshift_outbox_published_total',
    help: 'Events the outbox relay published to Kafka.',
    registers: [registry],
  });
  return { registry, handled, handlingSeconds, published, domain: createDomainMetrics(registry), controlStore: createControlStoreGauges(registry) };
}
