/**
 * `spec.strategy.throttle`: how hard a migration may push the store it migrates, judged by the store's
 * own signals (like gh-ost's `--max-lag-millis`/`--throttle-query` and pt-online-schema-change's
 * `--max-load`/`--chunk-time`). Every field has a default that protects a busy primary, so a policy
 * without the section is throttled too; migrate-shard applies the defaults when it reads the policy.
 */
import { z } from 'zod';

/**
 * The operator's throttle query: the shards hold while it returns more than `max`. Its SQL is the
 * migration's `throttleQuery` in the catalog (PostgreSQL stores only): a request carries no SQL.
 */
export const ThrottleQuery = z.strictObject({
  max: z.number().describe('Shards hold while the query returns more than this.'),
  timeoutMs: z.int().min(10).max(5000).default(500).describe('Statement timeout of the query; a query that times out counts as above max.'),
});
export type ThrottleQuery = z.infer<typeof ThrottleQuery>;

/** Limits of the store throttle; defaults protect a busy primary. */
export const StrategyThrottle = z.strictObject({
  maxReplicationLagSeconds: z.number().min(0).max(3600).default(5)
    .describe('Hold while a standby (PostgreSQL pg_stat_replication replay_lag; MongoDB secondaries) lags more than this.'),
  maxActiveSessions: z.int().min(1).max(100_000).default(25)
    .describe('Hold while more sessions than this are active in the database (MongoDB: queued operations), upshift\'s own excluded.'),
  maxBlockedSessions: z.int().min(0).max(100_000).default(0)
    .describe('Sessions that may wait for a lock on the migrated table (or on rows a batch holds) before shards back off.'),
  targetBatchMs: z.int().min(5).max(5000).default(100)
    .describe('Target duration of one batch transaction: how long a batch may hold its row locks.'),
  storeRowsPerSecond: z.int().min(1).max(10_000_000).optional()
    .describe('Rows per second over every shard of every run on one store (a shared budget); no cap when omitted.'),
  storeBatchesInFlight: z.union([z.literal('auto'), z.int().min(1).max(10_000)]).default('auto')
    .describe('Batches of one store that may run at once over every shard of every run (shared slots in the control store). `auto` (default) adapts the cap to the store\'s signals, shared by its shards: halved when writers wait on a batch (no lower than 2) or the store is over a limit (down to 1), one more after 2 s of quiet batches on their target time that found every slot taken. A number is a fixed cap.'),
  query: ThrottleQuery.optional(),
});
export type StrategyThrottle = z.infer<typeof StrategyThrottle>;

/** The limits of a policy without `strategy.throttle` (and the defaults of each field). */
export const defaultStrategyThrottle: StrategyThrottle = StrategyThrottle.parse({});
