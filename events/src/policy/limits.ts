/**
 * Every bound of an UpgradePolicy request, and of what upshift says back about a bad one, in one place.
 * The zod schema enforces them and states them in its descriptions (so the generated JSON Schema does
 * too); parsing checks the document's size before anything walks it; the problem list of a rejection
 * is cut to fit the `upgrade.rejected` schema. Each bound keeps the events a run produces under Kafka's
 * default record limit (1 MiB): `targets` bounds `upgrade.planned`, `problems` bounds `upgrade.rejected`.
 */

/** Bounds of the request. */
export const policyLimits = {
  /**
   * The document as JSON (after YAML aliases are expanded), and its YAML text, in bytes: 1,000 services
   * with long names in 2 clusters take about 330 KB; `upgrade.requested` stays well under 1 MiB.
   */
  documentBytes: 512 * 1024,
  /** Entries of `spec.clusters` (and so of `strategy.clusterOrder` and a service's `clusters`). */
  clusters: 32,
  /** Entries of `spec.services` (and so of a service's `dependsOn` and a migration's `after`). */
  services: 1000,
  /**
   * (service, cluster) pairs over all services: the workloads one run changes. `upgrade.planned` lists
   * each (about 300 bytes with images): 2,000 take about 600 KB; plan also refuses a plan whose event
   * would not fit, whatever its names. 1,000 services × 10 clusters is two or more requests.
   */
  targets: 2000,
  /** Entries of `spec.migrations`. */
  migrations: 64,
  /**
   * Shards of one migration (`spec.migrations[].shards`, and `PlannedMigration.shards` of the v2 events;
   * v1 carries at most `shardsV1`). 100,000 is 10× the 10,000 measured end to end (bench/src/many-shards.ts);
   * each shard costs a shard step, one `shard.requested` (~0.6 KB) written in the fan-out's one transaction
   * (~60 MB at the bound) and ~10–25 ms of orchestration, while parallelism stops at the 12 partitions of
   * `upshift.migrate-shard`: more shards would add only overhead. PostgreSQL's split samples 60,000 rows,
   * so a big table gets at most about that many distinct ranges anyway.
   */
  shardsPerMigration: 100_000,
  /** Shards of one migration the v1 events (`upgrade.planned.v1`, `migration.requested.v1`) carry. */
  shardsV1: 4096,
  /**
   * Shards given as numbers over all migrations of a run: 64 × 4,096, what a policy could ask for before
   * v2, so no request valid then is refused now, and a run's fan-out stays bounded with 64 migrations
   * allowed 100,000 each (`auto` adds at most 64 per migration).
   */
  shardsPerRun: 64 * 4096,
  /** Entries of `spec.verification.checks`. */
  checks: 16,
  /** Entries of `metadata.labels`. */
  labels: 64,
  /** Entries of `spec.strategy.gates` (a gate before each wave of the largest plan is well within). */
  gates: 64,
  /** YAML alias expansions (`maxAliasCount` of the `yaml` package): a bigger count is an alias bomb. */
  yamlAliases: 1000,
} as const;

/** Bounds of the problems reported about a request (paths and messages of `upgrade.rejected`, log lines). */
export const problemLimits = {
  /** Problems listed; the last entry says how many more there were. */
  listed: 50,
  /** Characters of one path or message, escapes and the closing "…" included. */
  textChars: 200,
  /** Characters of one object key inside a path, before the path itself is cut. */
  keyChars: 64,
  /** Characters of a rejection's `reason`. */
  reasonChars: 500,
} as const;

/** `n` bytes in words: `262144` → `256 KiB`. */
export function formatBytes(n: number): string {
  return n % 1024 === 0 && n >= 1024 ? `${n / 1024} KiB` : `${n} bytes`;
}
