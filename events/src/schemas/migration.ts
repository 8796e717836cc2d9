/** Data of the migration, shard and rollback events. Migrations are named, never carried as SQL. */
import { z } from 'zod';
import { MigrationRef, RunId, ShardId } from '../names.ts';
import { Count, KeyRange, PlannedMigration, PlannedMigrationV2, Reason, Stage } from './common.ts';

/** Run the additive (expand) DDL of these migrations before any image changes — consumed by migrate-shard. */
export const MigrationExpandRequested = z.object({ runId: RunId, migrations: z.array(MigrationRef).min(1) });
export type MigrationExpandRequested = z.infer<typeof MigrationExpandRequested>;

/** Expand DDL applied; rollout may start wave 0 — consumed by rollout. */
export const MigrationExpandDone = z.object({ runId: RunId, migrations: z.array(MigrationRef).min(1) });
export type MigrationExpandDone = z.infer<typeof MigrationExpandDone>;

/** Verified with `strategy.contract`: run the contract DDL, then announce completion — consumed by migrate-shard. */
export const MigrationContractRequested = z.object({ runId: RunId, migrations: z.array(MigrationRef).min(1) });
export type MigrationContractRequested = z.infer<typeof MigrationContractRequested>;

/** One planned shard of a migration. */
export const PlannedShard = z.object({ shardId: ShardId, index: Count, range: KeyRange });
export type PlannedShard = z.infer<typeof PlannedShard>;

/**
 * The waves these migrations wait for are rolled out (their `afterWave`); backfill their data — consumed
 * by migrate-shard, which splits each key space into the planned number of shards (it owns the store
 * access) and fans out `shard.requested`. Rollout continues with the next wave only once verify has
 * fanned these shards in.
 */
export const MigrationRequested = z.object({
  runId: RunId,
  migrations: z.array(PlannedMigration).min(1),
});
export type MigrationRequested = z.infer<typeof MigrationRequested>;

/** `migration.requested` v2: a migration may have more than 4,096 shards (`PlannedMigrationV2`); emitted only when one does. */
export const MigrationRequestedV2 = MigrationRequested.extend({ migrations: z.array(PlannedMigrationV2).min(1) });

/** Migrate one shard (partition key = shard id, so shards spread over partitions) — consumed by migrate-shard. */
export const ShardRequested = z.object({
  runId: RunId,
  shardId: ShardId,
  migration: MigrationRef,
  index: Count,
  shards: z.int().min(1),
  range: KeyRange,
  batchSize: z.int().min(1).max(100000),
  backup: z.boolean(),
});
export type ShardRequested = z.infer<typeof ShardRequested>;

/** A shard reached its end — consumed by verify (fan-in). */
export const ShardCompleted = z.object({
  runId: RunId,
  shardId: ShardId,
  migration: MigrationRef,
  rowsMigrated: Count,
  batches: Count,
  durationMs: Count,
});
export type ShardCompleted = z.infer<typeof ShardCompleted>;

/** A shard failed permanently (a domain failure, not a retry) — consumed by verify (fan-in). */
export const ShardFailed = z.object({
  runId: RunId,
  shardId: ShardId,
  migration: MigrationRef,
  reason: Reason,
  rowsMigrated: Count,
});
export type ShardFailed = z.infer<typeof ShardFailed>;

/**
 * Undo the run's data per its failure policy — consumed by migrate-shard (fans out restores of every
 * started shard; verify fans them in, then asks rollout for the image revert). From verify (a failed
 * shard or check) or rollout (a wave failed after migrations that start earlier had run).
 */
export const RollbackRequested = z.object({ runId: RunId, stage: Stage, reason: Reason });
export type RollbackRequested = z.infer<typeof RollbackRequested>;

/** Restore one shard from its backups — consumed by migrate-shard. */
export const ShardRestoreRequested = z.object({
  runId: RunId,
  shardId: ShardId,
  migration: MigrationRef,
  reason: Reason,
});
export type ShardRestoreRequested = z.infer<typeof ShardRestoreRequested>;

/**
 * Something a restore did not simply put back, by key and column/path: `changed` (the application
 * changed a migrated column after the migration; `down.conflicts` decided `kept` or `restored`),
 * `deleted` (the row is gone and stays gone), `created` (a row at the new version the run did not
 * migrate: `reverted` by `down.set`/`down.transform`, or `left`). Values are JSON text, truncated.
 */
export const RestoreFinding = z.object({
  key: z.string().max(1024),
  column: z.string().max(300),
  kind: z.enum(['changed', 'deleted', 'created']),
  decision: z.enum(['kept', 'restored', 'reverted', 'left']),
  written: z.string().max(300).nullable(),
  found: z.string().max(300).nullable(),
});
export type RestoreFinding = z.infer<typeof RestoreFinding>;

/**
 * A shard restore finished (`restored` or `failed`) — consumed by verify (fan-in, then image revert).
 * `rowsRestored` counts rows of which something was put back; `conflicts` the columns/rows the
 * application changed or deleted since the migration; `created` rows the new version made; `findings`
 * the first of them (all are in the store's `upshift_conflicts` table/collection).
 */
export const ShardRestoreDone = z.object({
  runId: RunId,
  shardId: ShardId,
  migration: MigrationRef,
  outcome: z.enum(['restored', 'failed']),
  rowsRestored: Count,
  conflicts: Count.optional(),
  created: Count.optional(),
  createdReverted: Count.optional(),
  findings: z.array(RestoreFinding).max(20).optional(),
  reason: Reason.optional(),
});
export type ShardRestoreDone = z.infer<typeof ShardRestoreDone>;
