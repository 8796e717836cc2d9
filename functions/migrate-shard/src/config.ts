import { HostConfig } from '@upshift/runtime';
import { z } from 'zod';

/** migrate-shard's environment: the host's, plus the catalog and how long one invocation may work on a shard. */
export const MigrateShardConfig = HostConfig.extend({
  /** The operator's migration catalog (a folder; a mounted ConfigMap in the cluster). */
  UPSHIFT_CATALOG_DIR: z.string().min(1).default('examples/catalog'),
  /** One `shard.requested` invocation works at most this long, then hands over to a continuation event. */
  UPSHIFT_SHARD_BUDGET_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  /** TTL of a shard lease; a heartbeat extends it every third of it while the shard is worked on. */
  UPSHIFT_SHARD_LEASE_TTL_MS: z.coerce.number().int().min(1000).max(300_000).default(15_000),
  /** At most one `run.progress` per shard per this interval. */
  UPSHIFT_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).default(1000),
  /** Shards (and restores) one process works on at once; more deliveries are refused with 429 and retried. */
  UPSHIFT_SHARD_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Connections per migration engine (target database) in this process. */
  UPSHIFT_STORE_POOL_SIZE: z.coerce.number().int().min(1).max(64).default(4),
}).loose(); // keeps every other variable: the catalog names the store connection variables (e.g. SHOP_DATABASE_URL)
/** Parsed migrate-shard configuration. */
export type MigrateShardConfig = z.infer<typeof MigrateShardConfig>;
