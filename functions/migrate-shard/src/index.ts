/**
 * migrate-shard — consumes `migration.expand.requested`, `migration.requested` (fan-out),
 * `shard.requested` (one shard, under its lease, within a budget, continued by events),
 * `rollback.requested` / `shard.restore.requested` (restores from backups) and
 * `migration.contract.requested`. Data changes are the engines' (`@upshift/migrations`); this adapter
 * routes events, holds leases and checkpoints, and emits what follows.
 */
import { hostname } from 'node:os';
import { isEventOf } from '@upshift/events';
import { defineFunction, UpshiftError } from '@upshift/runtime';
import type { BatchResult } from '@upshift/migrations';
import { EngineRegistry } from './adapters/engines.ts';
import { PlannedRuns } from './adapters/planned-runs.ts';
import { MigrateShardConfig } from './config.ts';
import type { MigrateDeps } from './context.ts';
import { contract, expand, fanOut } from './migration.ts';
import { restoreShard, rollback } from './restore.ts';
import { migrateShard } from './shard.ts';
import { ShardSlots } from './slots.ts';

let deps: MigrateDeps | undefined;

/** The parsed environment as strings: where the engines find the connection variables the catalog names. */
function storeEnv(config: Record<string, unknown>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(config).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

const migrateShardFunction = defineFunction({
  name: 'migrate-shard',
  config: MigrateShardConfig,
  async init({ config, metrics }) {
    const observeBatch = ({ ref, store }: { ref: string; store: string }, batch: BatchResult): void => {
      metrics.domain.recordsMigrated.inc({ migration: ref, store }, batch.changed);
      metrics.domain.batchSeconds.observe({ migration: ref, store }, batch.durationMs / 1000);
    };
    deps = { engines: new EngineRegistry(config.UPSHIFT_CATALOG_DIR, storeEnv(config), config.UPSHIFT_STORE_POOL_SIZE, observeBatch), holder: `${hostname()}:${process.pid}`, slots: new ShardSlots(config.UPSHIFT_SHARD_CONCURRENCY), planned: new PlannedRuns() };
  },
  async shutdown() {
    const open = deps;
    deps = undefined;
    await open?.engines.close();
  },
  async handle(ctx, event) {
    const d = deps;
    if (!d) throw new UpshiftError('UNAVAILABLE', 'migrate-shard is not initialised');
    if (isEventOf(event, 'shard.requested')) return d.slots.run(event.subject, () => migrateShard(ctx, event, d));
    if (isEventOf(event, 'migration.requested')) return fanOut(ctx, event.data, d);
    if (isEventOf(event, 'migration.expand.requested')) return expand(ctx, event.data, d);
    if (isEventOf(event, 'rollback.requested')) return rollback(ctx, event.data);
    if (isEventOf(event, 'shard.restore.requested')) return d.slots.run(event.subject, () => restoreShard(ctx, event.data, d));
    if (isEventOf(event, 'migration.contract.requested')) return contract(ctx, event.data, d);
    throw new UpshiftError('CONTRACT_VIOLATION', `migrate-shard does not consume ${event.type}`);
  },
});

export default migrateShardFunction;
export const { handle, init, shutdown, readiness, liveness } = migrateShardFunction;
