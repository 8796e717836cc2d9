/**
 * The domain metrics DESIGN.md promises, in every function's registry (Prometheus names: base units,
 * `_total` counters). Outcomes (runs, waves, shards, restores) are counted from the events a decision
 * committed, so they count once per decision whichever function emits them; batch-level figures are
 * observed by migrate-shard through `FunctionDeps.metrics`.
 */
import { entryForType } from '@upshift/events';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** Counters and histograms of what upshift did (see knative/monitoring for the rules and dashboard). */
export interface DomainMetrics {
  readonly recordsMigrated: Counter<'migration' | 'store'>;
  readonly batchSeconds: Histogram<'migration' | 'store'>;
  readonly shardSeconds: Histogram;
  readonly shards: Counter<'outcome'>;
  readonly recordsRestored: Counter<'migration'>;
  readonly waves: Counter<'outcome'>;
  readonly runs: Counter<'outcome'>;
  readonly deadLetters: Counter<'type' | 'status'>;
}

/** Registers the domain metrics in `registry`. */
export function createDomainMetrics(registry: Registry): DomainMetrics {
  const registers = [registry];
  return {
    recordsMigrated: new Counter({ name: 'upshift_records_migrated_total', help: 'Rows (PostgreSQL) or documents (MongoDB) changed by committed migration batches.', labelNames: ['migration', 'store'] as const, registers }),
    batchSeconds: new Histogram({
      name: 'upshift_batch_duration_seconds', help: 'Time one migration batch took (read, back up, transform, compare-and-set write, commit).',
      labelNames: ['migration', 'store'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers,
    }),
    shardSeconds: new Histogram({
      name: 'upshift_shard_duration_seconds', help: 'Time from a shard\'s first batch to its completion.',
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600], registers,
    }),
    shards: new Counter({ name: 'upshift_shards_total', help: 'Shards that ended, by outcome (completed, failed).', labelNames: ['outcome'] as const, registers }),
    recordsRestored: new Counter({ name: 'upshift_records_restored_total', help: 'Rows or documents put back from backups by shard restores.', labelNames: ['migration'] as const, registers }),
    waves: new Counter({ name: 'upshift_waves_total', help: 'Rollout waves that ended, by outcome (completed, failed).', labelNames: ['outcome'] as const, registers }),
    runs: new Counter({ name: 'upshift_runs_total', help: 'Runs that ended, by outcome (completed, failed, rolled_back).', labelNames: ['outcome'] as const, registers }),
    deadLetters: new Counter({ name: 'upshift_dead_letters_total', help: 'Dead-lettered deliveries received, by event type and the status that gave them up.', labelNames: ['type', 'status'] as const, registers }),
  };
}

/** A committed output: its CloudEvents type and data. */
export interface CommittedOutput {
  readonly type: string;
  readonly event: Readonly<Record<string, unknown>>;
}

/** Counts the outcomes among the events one decision committed. */
export function countOutcomes(metrics: DomainMetrics, outputs: readonly CommittedOutput[]): void {
  for (const output of outputs) {
    const data = (output.event['data'] ?? {}) as Readonly<Record<string, unknown>>;
    const count = (field: string): number => (typeof data[field] === 'number' ? data[field] : 0);
    const migration = typeof data['migration'] === 'string' ? data['migration'] : 'unknown';
    switch (entryForType(output.type)?.name) {
      case 'upgrade.completed': metrics.runs.inc({ outcome: 'completed' }); break;
      case 'upgrade.failed': metrics.runs.inc({ outcome: 'failed' }); break;
      case 'upgrade.rolled-back': metrics.runs.inc({ outcome: 'rolled_back' }); break;
      case 'rollout.wave.completed': metrics.waves.inc({ outcome: 'completed' }); break;
      case 'rollout.wave.failed': metrics.waves.inc({ outcome: 'failed' }); break;
      case 'shard.completed':
        metrics.shards.inc({ outcome: 'completed' });
        metrics.shardSeconds.observe(count('durationMs') / 1000);
        break;
      case 'shard.failed': metrics.shards.inc({ outcome: 'failed' }); break;
      case 'shard.restore.done':
        metrics.recordsRestored.inc({ migration }, count('rowsRestored'));
        break;
      default:
    }
  }
}
