/**
 * Name rules shared by the UpgradePolicy and the event schemas: Kubernetes DNS-1123 names,
 * container image references and migration catalog references. Anchored regexes without the
 * `m` flag, so a trailing newline never slips through (JS `$` does not match before `\n`).
 */
import { z } from 'zod';

/** DNS-1123 label: namespaces, service, cluster and container names (RFC 1123, max 63). */
export const Dns1123Label = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending alphanumeric');
export type Dns1123Label = z.infer<typeof Dns1123Label>;

/** DNS-1123 subdomain: workload, Secret and policy names (max 253). */
export const Dns1123Subdomain = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending alphanumeric',
  );
export type Dns1123Subdomain = z.infer<typeof Dns1123Subdomain>;

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const tag = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const digest = 'sha256:[a-f0-9]{64}';
const imagePattern = new RegExp(
  `^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?:(?::${tag})(?:@${digest})?|@${digest})$`,
);

/**
 * A pinned container image reference (distribution/reference grammar): `[registry/]repo:tag`,
 * `repo@sha256:<64 hex>` or both. An untagged reference (implicit `latest`) is rejected.
 */
export const ImageReference = z
  .string()
  .max(512, 'must be at most 512 characters')
  .regex(imagePattern, 'must be an image reference "[registry/]repository:tag" or "repository@sha256:<digest>" without whitespace');
export type ImageReference = z.infer<typeof ImageReference>;

/** A migration from the operator's catalog, `name@version` (e.g. `orders-currency@1`); never SQL. */
export const MigrationRef = z
  .string()
  .max(128, 'must be at most 128 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?@[0-9]+(\.[0-9]+)*$/, 'must be a catalog reference "name@version", e.g. "orders-currency@1"');
export type MigrationRef = z.infer<typeof MigrationRef>;

/** A run id: DNS-label shaped so it fits Kubernetes labels and resource names (a UUID fits). */
export const RunId = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a run id: lowercase letters, digits and "-" (e.g. a UUID)');
export type RunId = z.infer<typeof RunId>;

/** A shard id, `<runId>:<migrationRef>:<index>` (see `shardIdFor`); the partition key of shard events. */
export const ShardId = z
  .string()
  .max(256, 'must be at most 256 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9]*[a-z0-9])?@[0-9]+(\.[0-9]+)*:[0-9]+$/, 'must be a shard id "<runId>:<migration@version>:<index>"');
export type ShardId = z.infer<typeof ShardId>;

/** Builds the canonical shard id; deterministic so redelivered fan-outs produce the same ids. */
export function shardIdFor(runId: RunId, migration: MigrationRef, index: number): ShardId {
  return `${runId}:${migration}:${index}`;
}
