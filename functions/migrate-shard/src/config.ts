import { fileURLToPath } from 'node:url';
import { folderSetting, HostConfig } from '@upshift/runtime';
import { z } from 'zod';

/** The repository's example catalog, found from this file rather than the working directory: the default of UPSHIFT_CATALOG_DIR. */
const exampleCatalog = fileURLToPath(new URL('../../../examples/catalog', import.meta.url));

/**
 * Default TTL of a shard lease: how long a dead worker's shard stays taken. The delivery policy's retry
 * window is chosen to outlast it (`@upshift/runtime/delivery`, test/faults/retry-window.test.ts).
 */
export const SHARD_LEASE_TTL_DEFAULT_MS = 15_000;

/** Shard slots when neither UPSHIFT_SHARD_CONCURRENCY nor UPSHIFT_CONTAINER_CONCURRENCY is set. */
const shardSlotsFallback = 4;

/** Connections per migration engine when UPSHIFT_STORE_POOL_SIZE is not set and many shard slots are. */
const storePoolCeiling = 4;

const Concurrency = z.coerce.number().int().min(1).max(64);

/** migrate-shard's environment: the host's, plus the catalog and how long one invocation may work on a shard. */
const MigrateShardEnv = HostConfig.extend({
  /** The operator's migration catalog (a folder; a mounted ConfigMap in the cluster); relative to the working directory. */
  UPSHIFT_CATALOG_DIR: folderSetting(exampleCatalog),
  /** One `shard.requested` invocation works at most this long, then hands over to a continuation event. */
  UPSHIFT_SHARD_BUDGET_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  /** TTL of a shard lease; a heartbeat extends it every third of it while the shard is worked on. */
  UPSHIFT_SHARD_LEASE_TTL_MS: z.coerce.number().int().min(1000).max(300_000).default(SHARD_LEASE_TTL_DEFAULT_MS),
  /** At most one `run.progress` per shard per this interval. */
  UPSHIFT_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).default(1000),
  /** Requests the platform sends this process at once (Knative containerConcurrency; `upshift dev` sets what its dispatcher sends). */
  UPSHIFT_CONTAINER_CONCURRENCY: Concurrency.optional(),
  /**
   * Shards (and restores) one process works on at once; more deliveries are refused with 429 and
   * retried. Default: UPSHIFT_CONTAINER_CONCURRENCY (what the platform sends, so 429 never happens in
   * normal operation), else 4.
   */
  UPSHIFT_SHARD_CONCURRENCY: Concurrency.optional(),
  /**
   * Connections per migration engine (target database) in this process. Default: one per shard slot plus
   * one, at most 4 (a shard works one batch at a time on one connection): 2 for a pod of containerConcurrency 1.
   */
  UPSHIFT_STORE_POOL_SIZE: z.coerce.number().int().min(1).max(64).optional(),
}).loose(); // keeps every other variable: the catalog names the store connection variables (e.g. SHOP_DATABASE_URL)

/** migrate-shard's configuration, the shard slots settled. */
export const MigrateShardConfig = MigrateShardEnv.transform((env) => {
  const slots = env.UPSHIFT_SHARD_CONCURRENCY ?? env.UPSHIFT_CONTAINER_CONCURRENCY ?? shardSlotsFallback;
  return { ...env, UPSHIFT_SHARD_CONCURRENCY: slots, UPSHIFT_STORE_POOL_SIZE: env.UPSHIFT_STORE_POOL_SIZE ?? Math.min(storePoolCeiling, slots + 1) };
});
/** Parsed migrate-shard configuration. */
export type MigrateShardConfig = z.infer<typeof MigrateShardConfig>;
