/**
 * Building blocks of event data. Event data objects are tolerant readers (`z.object`: unknown
 * fields are dropped on decode), so adding an optional field is not a breaking change; removing or
 * retyping one is, and the published-schema snapshot test demands a version bump for it.
 */
import { z } from 'zod';
import { Dns1123Label, Dns1123Subdomain, ImageReference, MigrationRef } from '../names.ts';
import { policyLimits } from '../policy/limits.ts';

/** The function that emits or consumes an event; `cli` only emits (requests). */
export const FunctionName = z.enum(['plan', 'rollout', 'migrate-shard', 'verify']);
export type FunctionName = z.infer<typeof FunctionName>;

/** Every place an event can come from: a function, the CLI or the dashboard (CloudEvents `source` `/upshift/<producer>`). */
export const Producer = z.enum(['cli', 'dashboard', 'plan', 'rollout', 'migrate-shard', 'verify']);
export type Producer = z.infer<typeof Producer>;

/** The stage of a run, used in progress and failure events. */
export const Stage = z.enum(['plan', 'expand', 'rollout', 'migrate', 'verify', 'contract', 'rollback']);
export type Stage = z.infer<typeof Stage>;

/** A non-negative integer count. */
export const Count = z.int().min(0);

/** A short human-readable explanation; never carries credentials, SQL or code. */
export const Reason = z.string().min(1).max(2000);

/** One workload container in one cluster, as rollout patches it. */
export const WorkloadTarget = z.object({
  service: Dns1123Label,
  cluster: Dns1123Label,
  namespace: Dns1123Label,
  workload: z.object({ kind: z.enum(['Deployment', 'StatefulSet']), name: Dns1123Subdomain }),
  container: Dns1123Label,
  image: ImageReference,
});
export type WorkloadTarget = z.infer<typeof WorkloadTarget>;

/** A key range of a shard: start inclusive, end exclusive, `null` = unbounded; keys encoded as strings. */
export const KeyRange = z.object({
  start: z.string().max(1024).nullable(),
  end: z.string().max(1024).nullable(),
});
export type KeyRange = z.infer<typeof KeyRange>;

/** The data store a migration runs against. */
export const Store = z.enum(['postgres', 'mongodb']);
export type Store = z.infer<typeof Store>;

/**
 * A migration of a run as planned: catalog reference, how it is split and batched, and when it starts:
 * `afterWave` is the 0-based wave after which its data migration runs (the last wave holding a service
 * of its `after:` list; the run's last wave when the list is empty). plan always sets it; absent means
 * after the last wave.
 */
export const PlannedMigration = z.object({
  ref: MigrationRef,
  store: Store,
  shards: z.int().min(1).max(policyLimits.shardsV1),
  batchSize: z.int().min(1).max(100000),
  backup: z.boolean(),
  afterWave: Count.optional(),
});
export type PlannedMigration = z.infer<typeof PlannedMigration>;

/**
 * `PlannedMigration` of the v2 events: up to `policyLimits.shardsPerMigration` shards (v1 stops at
 * `policyLimits.shardsV1`, 4,096). Everything else is v1's, so v2 reads every v1 migration.
 */
export const PlannedMigrationV2 = PlannedMigration.extend({ shards: z.int().min(1).max(policyLimits.shardsPerMigration) });

/** A field-level problem, e.g. with a policy: `path` like `spec.services[1].image`. */
export const FieldProblem = z.object({ path: z.string().max(512), message: z.string().max(2000) });
export type FieldProblem = z.infer<typeof FieldProblem>;
