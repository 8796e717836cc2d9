/**
 * The UpgradePolicy document (`apiVersion: upshift.dev/v1alpha1`, `kind: UpgradePolicy`): what a
 * platform engineer asks upshift to do. Strict objects (unknown fields fail), Kubernetes name
 * rules, pinned images, catalog references instead of SQL; cross-references are checked in refine.ts.
 */
import { z } from 'zod';
import { Dns1123Label, Dns1123Subdomain, ImageReference, MigrationRef } from '../names.ts';
import { checkCrossReferences } from './refine.ts';

/** A kubeconfig context name: printable, no whitespace (contexts like EKS ARNs contain ':' and '/'). */
const ContextName = z.string().min(1).max(253).regex(/^[\x21-\x7e]+$/, 'must be a kubeconfig context name without whitespace');

/** A reference to a key of a Secret holding a kubeconfig. */
export const SecretKeyRef = z.strictObject({
  name: Dns1123Subdomain,
  key: z.string().min(1).max(253).regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key: letters, digits, "-", "_" or "."'),
  namespace: Dns1123Label.optional(),
});
export type SecretKeyRef = z.infer<typeof SecretKeyRef>;

/** A target cluster, reached through a kubeconfig context (local) or a Secret (in cluster) — exactly one. */
export const ClusterSpec = z
  .strictObject({ name: Dns1123Label, context: ContextName.optional(), secretRef: SecretKeyRef.optional() })
  .refine((c) => (c.context === undefined) !== (c.secretRef === undefined), {
    message: 'set exactly one of "context" or "secretRef"',
    path: ['context'],
  });
export type ClusterSpec = z.infer<typeof ClusterSpec>;

/** The workload whose container image is upgraded. */
export const WorkloadRef = z.strictObject({ kind: z.enum(['Deployment', 'StatefulSet']), name: Dns1123Subdomain });
export type WorkloadRef = z.infer<typeof WorkloadRef>;

/** A service: one workload container in one namespace of one or more clusters, and its target image. */
export const ServiceSpec = z.strictObject({
  name: Dns1123Label,
  clusters: z.array(Dns1123Label).min(1, 'must name at least one cluster'),
  namespace: Dns1123Label,
  workload: WorkloadRef,
  container: Dns1123Label,
  image: ImageReference,
  dependsOn: z.array(Dns1123Label).default([]),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/** A migration from the operator's catalog, run after the named services are rolled out. */
export const MigrationSpec = z.strictObject({
  ref: MigrationRef,
  shards: z.union([z.int().min(1, 'must be at least 1').max(4096, 'must be at most 4096'), z.literal('auto')]).default('auto'),
  batchSize: z.int().min(1).max(100000).default(1000),
  backup: z.boolean().default(true),
  after: z.array(Dns1123Label).default([]),
});
export type MigrationSpec = z.infer<typeof MigrationSpec>;

/** How the rollout proceeds and what happens on failure. */
export const StrategySpec = z.strictObject({
  /** Clusters in rollout order; the first is the canary. Defaults to the order of `clusters`. */
  clusterOrder: z.array(Dns1123Label).optional(),
  maxParallelServices: z.int().min(1).max(100).default(1),
  soakSeconds: z.int().min(0).max(86400).default(0),
  progressDeadlineSeconds: z.int().min(1).max(86400).default(600),
  failurePolicy: z.enum(['rollback', 'freeze']).default('rollback'),
  /** Run the migrations' contract DDL after a verified run. */
  contract: z.boolean().default(false),
});
export type StrategySpec = z.infer<typeof StrategySpec>;

/** A declarative verification check; verify knows how to evaluate each kind. */
export const VerificationCheck = z.strictObject({
  name: Dns1123Label,
  kind: z.enum(['workloadsAvailable', 'noOldVersion', 'invariants']),
});
export type VerificationCheck = z.infer<typeof VerificationCheck>;

const defaultChecks: VerificationCheck[] = [
  { name: 'workloads-available', kind: 'workloadsAvailable' },
  { name: 'no-old-version', kind: 'noOldVersion' },
  { name: 'invariants', kind: 'invariants' },
];

/** The `spec` of an UpgradePolicy. */
export const UpgradePolicySpec = z.strictObject({
  clusters: z.array(ClusterSpec).min(1, 'must name at least one cluster'),
  services: z.array(ServiceSpec).min(1, 'must name at least one service'),
  migrations: z.array(MigrationSpec).default([]),
  strategy: StrategySpec.default({ maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 600, failurePolicy: 'rollback', contract: false }),
  verification: z.strictObject({ checks: z.array(VerificationCheck).min(1) }).default({ checks: defaultChecks }),
  dryRun: z.boolean().default(false),
});
export type UpgradePolicySpec = z.infer<typeof UpgradePolicySpec>;

/** The whole UpgradePolicy document, cross-references included. */
export const UpgradePolicy = z
  .strictObject({
    apiVersion: z.literal('upshift.dev/v1alpha1'),
    kind: z.literal('UpgradePolicy'),
    metadata: z.strictObject({ name: Dns1123Subdomain, labels: z.record(z.string().max(63), z.string().max(63)).optional() }),
    spec: UpgradePolicySpec,
  })
  .superRefine((policy, ctx) => checkCrossReferences(policy.spec, ctx));
export type UpgradePolicy = z.infer<typeof UpgradePolicy>;
