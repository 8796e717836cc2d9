/**
 * The UpgradePolicy document (`apiVersion: upshift.dev/v1alpha1`, `kind: UpgradePolicy`): what a
 * platform engineer asks upshift to do. Strict objects (unknown fields fail), Kubernetes name
 * rules, pinned images, catalog references instead of SQL; cross-references are checked in refine.ts.
 */
import { z } from 'zod';
import { Dns1123Label, Dns1123Subdomain, ImageReference, MigrationRef } from '../names.ts';
import { labelKeyProblem, LabelKeyPattern, LabelValuePattern } from './labels.ts';
import { formatBytes, policyLimits as limits } from './limits.ts';
import { checkCrossReferences } from './refine.ts';
import { StrategyThrottle } from './throttle.ts';

/** A kubeconfig context name: printable, no whitespace (contexts like EKS ARNs contain ':' and '/'). */
const ContextName = z.string().min(1).max(253).regex(/^[\x21-\x7e]+$/, 'must be a kubeconfig context name without whitespace');

/** A reference to a key of a Secret holding a kubeconfig. */
export const SecretKeyRef = z.strictObject({
  name: Dns1123Subdomain,
  key: z.string().min(1, 'must not be empty').max(253, 'must be at most 253 characters')
    .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key: letters, digits, "-", "_" or "."')
    .refine((key) => key !== '.' && key !== '..', 'must be a Secret key, not "." or ".."')
    .describe('A key of the Secret (Kubernetes Secret key rules): [-._a-zA-Z0-9]+, at most 253 characters, not "." or "..".'),
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

/** A list of at most `max` entries; the message and description say the bound. */
function bounded<T extends z.ZodType>(item: T, max: number, what: string) {
  return z.array(item).max(max, `must list at most ${max} ${what}`);
}

/** A service: one workload container in one namespace of one or more clusters, and its target image. */
export const ServiceSpec = z.strictObject({
  name: Dns1123Label,
  clusters: bounded(Dns1123Label, limits.clusters, 'clusters').min(1, 'must name at least one cluster'),
  namespace: Dns1123Label,
  workload: WorkloadRef,
  container: Dns1123Label,
  image: ImageReference,
  dependsOn: bounded(Dns1123Label, limits.services, 'services').default([])
    .describe('Services that must be at their target everywhere before this one starts; no cycles.'),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

/** A migration from the operator's catalog, run after the named services are rolled out. */
export const MigrationSpec = z.strictObject({
  ref: MigrationRef,
  shards: z.union([z.int().min(1, 'must be at least 1').max(limits.shardsPerMigration, `must be at most ${limits.shardsPerMigration}`), z.literal('auto')]).default('auto')
    .describe(`Shards of the migration: 1 to ${limits.shardsPerMigration}, or auto (sized from the row count). Over ${limits.shardsV1}, the run's upgrade.planned and migration.requested are v2.`),
  batchSize: z.int().min(1).max(100000).default(1000),
  backup: z.boolean().default(true),
  after: bounded(Dns1123Label, limits.services, 'services').default([]),
});
export type MigrationSpec = z.infer<typeof MigrationSpec>;

/** A manual gate: the run holds before starting wave `beforeWave` (1-based, as people count) until promoted. */
export const StrategyGate = z.strictObject({
  beforeWave: z.int().min(1).max(limits.targets)
    .describe('The wave (1-based) that waits for a promote; plan rejects a wave beyond the plan\'s last.'),
});
export type StrategyGate = z.infer<typeof StrategyGate>;

/** How the rollout proceeds and what happens on failure. */
export const StrategySpec = z.strictObject({
  /** Clusters in rollout order; the first is the canary. Defaults to the order of `clusters`. */
  clusterOrder: bounded(Dns1123Label, limits.clusters, 'clusters').optional()
    .describe('Clusters in rollout order, each once; the first is the canary. Defaults to the order of spec.clusters.'),
  maxParallelServices: z.int().min(1).max(100).default(1),
  soakSeconds: z.int().min(0).max(86400).default(0),
  progressDeadlineSeconds: z.int().min(1).max(86400).default(600),
  failurePolicy: z.enum(['rollback', 'freeze']).default('rollback'),
  /** Run the migrations' contract DDL after a verified run. */
  contract: z.boolean().default(false),
  /** Manual gates: the rollout holds before starting each named wave until an operator promotes it. */
  gates: bounded(StrategyGate, limits.gates, 'gates').optional()
    .describe(`Manual gates, at most ${limits.gates}: before each named wave (1-based) the run waits for \`upshift promote\`.`),
  /** How hard migrations may push their stores, by the stores' own signals (defaults apply when omitted). */
  throttle: StrategyThrottle.optional()
    .describe('Store throttle of the migrations: max replication lag, max active/blocked sessions, target batch time, a shared rows/s budget per store, an operator query. Defaults protect a busy primary.'),
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
  clusters: bounded(ClusterSpec, limits.clusters, 'clusters').min(1, 'must name at least one cluster')
    .describe(`The target clusters: 1 to ${limits.clusters}.`),
  services: bounded(ServiceSpec, limits.services, 'services').min(1, 'must name at least one service')
    .describe(`The services to upgrade: 1 to ${limits.services}, and at most ${limits.targets} (service, cluster) pairs over all of them.`),
  migrations: bounded(MigrationSpec, limits.migrations, 'migrations').default([])
    .describe(`Catalog migrations to run: at most ${limits.migrations}.`),
  strategy: StrategySpec.default({ maxParallelServices: 1, soakSeconds: 0, progressDeadlineSeconds: 600, failurePolicy: 'rollback', contract: false }),
  verification: z.strictObject({ checks: bounded(VerificationCheck, limits.checks, 'checks').min(1) }).default({ checks: defaultChecks }),
  dryRun: z.boolean().default(false),
});
export type UpgradePolicySpec = z.infer<typeof UpgradePolicySpec>;

/** Kubernetes labels of the policy: keys and values by Kubernetes' rules, a bounded count. */
export const Labels = z
  .record(
    z.string().max(317, 'must be a label key of at most 317 characters (prefix of 253, "/", name of 63)')
      .regex(LabelKeyPattern, 'must be a label key: an optional DNS-1123 subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric')
      .superRefine((key, ctx) => {
        const problem = labelKeyProblem(key);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    z.string().max(63, 'must be a label value of at most 63 characters')
      .regex(LabelValuePattern, 'must be a label value: empty, or letters, digits, "-", "_" or ".", starting and ending alphanumeric'),
  )
  .refine((labels) => Object.keys(labels).length <= limits.labels, `must have at most ${limits.labels} labels`)
  .meta({ description: `Kubernetes labels (key and value rules of Kubernetes), at most ${limits.labels}.`, maxProperties: limits.labels });
export type Labels = z.infer<typeof Labels>;

/** The whole UpgradePolicy document, cross-references included. */
export const UpgradePolicy = z
  .strictObject({
    apiVersion: z.literal('upshift.dev/v1alpha1'),
    kind: z.literal('UpgradePolicy'),
    metadata: z.strictObject({ name: Dns1123Subdomain, labels: Labels.optional() }),
    spec: UpgradePolicySpec,
  })
  .superRefine((policy, ctx) => checkCrossReferences(policy.spec, ctx))
  .describe(`What to upgrade, where, with which data migrations: at most ${formatBytes(limits.documentBytes)} as JSON.`);
export type UpgradePolicy = z.infer<typeof UpgradePolicy>;
