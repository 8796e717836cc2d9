/** Data of the `upgrade.*` events: the request, and the run's public lifecycle outcomes. */
import { z } from 'zod';
import { Dns1123Subdomain, ImageReference, MigrationRef, RunId } from '../names.ts';
import { Count, FieldProblem, PlannedMigration, PlannedMigrationV2, Reason, Stage, WorkloadTarget } from './common.ts';

/**
 * The policy as carried by `upgrade.requested`: only its envelope is checked here; plan validates
 * the whole document with `parsePolicy` and answers `upgrade.rejected` with every field error, so a
 * bad policy from CI gets an answer on the lifecycle topic instead of a dead letter.
 */
export const PolicyEnvelope = z.looseObject({
  apiVersion: z.literal('upshift.dev/v1alpha1'),
  kind: z.literal('UpgradePolicy'),
  metadata: z.looseObject({ name: Dns1123Subdomain }),
});
export type PolicyEnvelope = z.infer<typeof PolicyEnvelope>;

/** A user asks for an upgrade run (CLI or CI) — consumed by plan. */
export const UpgradeRequested = z.object({
  runId: RunId,
  policy: PolicyEnvelope,
  requestedBy: z.string().min(1).max(256).optional(),
});
export type UpgradeRequested = z.infer<typeof UpgradeRequested>;

/** One wave of the plan: (service × cluster) targets rolled out together, with the image each runs now. */
export const PlannedWave = z.object({
  index: Count,
  targets: z.array(WorkloadTarget.extend({ previousImage: ImageReference })).min(1),
});
export type PlannedWave = z.infer<typeof PlannedWave>;

/** plan computed the run (lifecycle); with `dryRun` this is the run's last event. */
export const UpgradePlanned = z.object({
  runId: RunId,
  policyName: Dns1123Subdomain,
  dryRun: z.boolean(),
  waves: z.array(PlannedWave),
  migrations: z.array(PlannedMigration),
});
export type UpgradePlanned = z.infer<typeof UpgradePlanned>;

/** `upgrade.planned` v2: a migration may have more than 4,096 shards (`PlannedMigrationV2`); emitted only when one does. */
export const UpgradePlannedV2 = UpgradePlanned.extend({ migrations: z.array(PlannedMigrationV2) });

/** plan refused the request (invalid policy, target busy, unknown migration) — terminal (lifecycle). */
export const UpgradeRejected = z.object({
  runId: RunId,
  policyName: Dns1123Subdomain.optional(),
  code: z.enum(['invalid-policy', 'preflight-failed', 'target-busy', 'unknown-migration', 'cluster-unreachable', 'no-safe-order']),
  reason: Reason,
  problems: z.array(FieldProblem),
});
export type UpgradeRejected = z.infer<typeof UpgradeRejected>;

/** Every workload runs its target and every shard migrated and verified — terminal (lifecycle). */
export const UpgradeCompleted = z.object({
  runId: RunId,
  policyName: Dns1123Subdomain,
  services: z.array(z.object({ service: z.string().min(1), cluster: z.string().min(1), image: ImageReference })),
  migrations: z.array(z.object({ ref: MigrationRef, shards: Count, rowsMigrated: Count })),
  /** True when the migrations' contract DDL ran (strategy.contract) before this event. */
  contracted: z.boolean(),
  durationMs: Count,
});
export type UpgradeCompleted = z.infer<typeof UpgradeCompleted>;

/** The run stopped without a full rollback (failure policy `freeze`, or the rollback itself failed) — terminal (lifecycle). */
export const UpgradeFailed = z.object({
  runId: RunId,
  stage: Stage,
  reason: Reason,
  failurePolicy: z.enum(['rollback', 'freeze']),
  frozen: z.boolean(),
});
export type UpgradeFailed = z.infer<typeof UpgradeFailed>;

/** Images reverted and data restored after a failure — terminal (lifecycle). */
export const UpgradeRolledBack = z.object({
  runId: RunId,
  stage: Stage,
  reason: Reason,
  restoredShards: Count,
  revertedWorkloads: Count,
});
export type UpgradeRolledBack = z.infer<typeof UpgradeRolledBack>;
