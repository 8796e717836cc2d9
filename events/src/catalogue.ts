/**
 * The catalogue: one entry per CloudEvent type upshift produces or consumes — its schema, version,
 * Kafka topic, partition key and consuming function. The dispatcher's routing, the knative
 * manifests, the generated JSON Schemas and the AsyncAPI document all derive from this table.
 * A name may have several versions (`versionsOf`): producers emit the oldest that carries the data,
 * consumers accept them all.
 */
import type { z } from 'zod';
import type { FunctionName } from './schemas/common.ts';
import { RunControlApplied, RunControlRequested } from './schemas/control.ts';
import { MigrationContractRequested, MigrationExpandDone, MigrationExpandRequested, MigrationRequested, MigrationRequestedV2, RollbackRequested, ShardCompleted, ShardFailed, ShardRequested, ShardRestoreDone, ShardRestoreRequested } from './schemas/migration.ts';
import { RunProgress, VerifyRequested, VerifyResults } from './schemas/observe.ts';
import { ImageRevertCheck, ImageRevertRequested, RolloutWaveCheck, RolloutWaveCompleted, RolloutWaveFailed, RolloutWaveRequested } from './schemas/rollout.ts';
import { UpgradeCompleted, UpgradeFailed, UpgradePlanned, UpgradePlannedV2, UpgradeRejected, UpgradeRequested, UpgradeRolledBack } from './schemas/upgrade.ts';

/** Prefix of every upshift CloudEvent type (reverse DNS of upshift.dev). */
export const TYPE_PREFIX = 'dev.upshift.';

/** The public topic users consume: every lifecycle event of every run. */
export const LIFECYCLE_TOPIC = 'upshift.lifecycle';
/** Where the dispatcher/KafkaSource put events that violate the contract or exhaust their retries. */
export const DEAD_LETTER_TOPIC = 'upshift.dead-letter';

/** The work topic of a function: `upshift.<function>`. */
export type WorkTopic = `upshift.${FunctionName}`;
/** Every Kafka topic upshift uses. */
export type Topic = typeof LIFECYCLE_TOPIC | typeof DEAD_LETTER_TOPIC | WorkTopic;

/** Who reads an event: a function (work event on its topic) or users (public lifecycle event). */
type Routing = { readonly consumer: FunctionName } | { readonly lifecycle: true };

/** One catalogue entry; `K` is the data field that is the Kafka partition key. */
export interface CatalogueEntry<N extends string = string, V extends number = number, S extends z.ZodType = z.ZodType> {
  /** Short name, e.g. `shard.requested`; the key of handler maps. */
  readonly name: N;
  /** Schema version; bump it (new type) for any breaking change. */
  readonly version: V;
  /** CloudEvents `type`, reverse DNS and versioned: `dev.upshift.<name>.v<version>`. */
  readonly type: `dev.upshift.${N}.v${V}`;
  /** zod schema of `data`. */
  readonly schema: S;
  /** Kafka topic the event is published to. */
  readonly topic: Topic;
  /** Name of the data field whose value is the partition key (Kafka message key, `subject`). */
  readonly keyField: 'runId' | 'shardId';
  /** The function that consumes it, or null for public lifecycle events. */
  readonly consumer: FunctionName | null;
  /** True for public lifecycle events (topic `upshift.lifecycle`). */
  readonly lifecycle: boolean;
  /** One line for docs. */
  readonly description: string;
}

/** The routing fields an entry gets, as literal types (so `LifecycleEventName` can be computed). */
type RoutingFields<R extends Routing> = R extends { readonly consumer: infer C extends FunctionName }
  ? { readonly consumer: C; readonly lifecycle: false; readonly topic: `upshift.${C}` }
  : { readonly consumer: null; readonly lifecycle: true; readonly topic: typeof LIFECYCLE_TOPIC };

function entry<const N extends string, const V extends number, S extends z.ZodType, const R extends Routing>(
  name: N, version: V, schema: S, routing: R, description: string, keyField: 'runId' | 'shardId' = 'runId',
): CatalogueEntry<N, V, S> & RoutingFields<R> {
  const consumer = 'consumer' in routing ? routing.consumer : null;
  const topic: Topic = consumer === null ? LIFECYCLE_TOPIC : `upshift.${consumer}`;
  const type = `${TYPE_PREFIX}${name}.v${version}` as `dev.upshift.${N}.v${V}`;
  const built: CatalogueEntry<N, V, S> = { name, version, type, schema, topic, keyField, consumer, lifecycle: consumer === null, description };
  return Object.freeze(built) as CatalogueEntry<N, V, S> & RoutingFields<R>;
}

const lifecycle = { lifecycle: true } as const;

/**
 * The catalogue, keyed by short name: each name's base version, the oldest upshift still emits and
 * accepts (later versions are in `laterVersions`).
 */
export const catalogue = Object.freeze({
  'upgrade.requested': entry('upgrade.requested', 1, UpgradeRequested, { consumer: 'plan' }, 'A user asks for an upgrade run (upshift request, CI).'),
  'upgrade.planned': entry('upgrade.planned', 1, UpgradePlanned, lifecycle, 'The plan: waves and migration shards; last event of a dry run.'),
  'upgrade.rejected': entry('upgrade.rejected', 1, UpgradeRejected, lifecycle, 'The request was refused, with every field problem. Terminal.'),
  'upgrade.completed': entry('upgrade.completed', 1, UpgradeCompleted, lifecycle, 'Every workload at target, data migrated and verified. Terminal.'),
  'upgrade.failed': entry('upgrade.failed', 1, UpgradeFailed, lifecycle, 'Stopped without full rollback (freeze, or rollback failed). Terminal.'),
  'upgrade.rolled-back': entry('upgrade.rolled-back', 1, UpgradeRolledBack, lifecycle, 'Images reverted and data restored after a failure. Terminal.'),
  'migration.expand.requested': entry('migration.expand.requested', 1, MigrationExpandRequested, { consumer: 'migrate-shard' }, 'Run additive (expand) DDL before rollout.'),
  'migration.expand.done': entry('migration.expand.done', 1, MigrationExpandDone, { consumer: 'rollout' }, 'Expand DDL applied; rollout starts wave 0.'),
  'rollout.wave.requested': entry('rollout.wave.requested', 1, RolloutWaveRequested, { consumer: 'rollout' }, 'Patch the images of one wave.'),
  'rollout.wave.check': entry('rollout.wave.check', 1, RolloutWaveCheck, { consumer: 'rollout' }, 'Continuation: look at a wave again instead of blocking.'),
  'rollout.wave.completed': entry('rollout.wave.completed', 1, RolloutWaveCompleted, lifecycle, 'A wave is rolled out in every cluster.'),
  'rollout.wave.failed': entry('rollout.wave.failed', 1, RolloutWaveFailed, lifecycle, 'A wave did not become available.'),
  'migration.requested': entry('migration.requested', 1, MigrationRequested, { consumer: 'migrate-shard' }, 'Backfill data; fans out one shard.requested per shard.'),
  'shard.requested': entry('shard.requested', 1, ShardRequested, { consumer: 'migrate-shard' }, 'Migrate one shard.', 'shardId'),
  'shard.completed': entry('shard.completed', 1, ShardCompleted, { consumer: 'verify' }, 'A shard is migrated (fan-in).', 'shardId'),
  'shard.failed': entry('shard.failed', 1, ShardFailed, { consumer: 'verify' }, 'A shard failed permanently (fan-in).', 'shardId'),
  'rollback.requested': entry('rollback.requested', 1, RollbackRequested, { consumer: 'migrate-shard' }, 'Undo the run; fans out shard restores.'),
  'shard.restore.requested': entry('shard.restore.requested', 1, ShardRestoreRequested, { consumer: 'migrate-shard' }, 'Restore one shard from its backups.', 'shardId'),
  'shard.restore.done': entry('shard.restore.done', 2, ShardRestoreDone, { consumer: 'verify' }, 'A shard restore finished (fan-in).', 'shardId'),
  'image.revert.requested': entry('image.revert.requested', 1, ImageRevertRequested, { consumer: 'rollout' }, 'Put the previous images back.'),
  'image.revert.check': entry('image.revert.check', 1, ImageRevertCheck, { consumer: 'rollout' }, 'Continuation: look at a reverted wave again instead of blocking.'),
  'verify.requested': entry('verify.requested', 1, VerifyRequested, { consumer: 'verify' }, 'Verify a run with no shards to wait for (no migrations).'),
  'migration.contract.requested': entry('migration.contract.requested', 1, MigrationContractRequested, { consumer: 'migrate-shard' }, 'Verified and strategy.contract: run contract DDL, then upgrade.completed.'),
  'verify.results': entry('verify.results', 1, VerifyResults, lifecycle, 'Verification verdict per check.'),
  'run.progress': entry('run.progress', 1, RunProgress, lifecycle, 'Where a run is: stage, percent, shards, rows.'),
  'run.control.requested': entry('run.control.requested', 1, RunControlRequested, { consumer: 'verify' }, 'An operator pauses, resumes, throttles, aborts, retries or promotes a run (CLI, dashboard).'),
  'run.control.applied': entry('run.control.applied', 1, RunControlApplied, lifecycle, 'What came of a control (applied or ignored, with why) and the run\'s control state.'),
});

/** The catalogue table type. */
export type Catalogue = typeof catalogue;
/** Short name of an event, e.g. `shard.requested`. */
export type EventName = keyof Catalogue;

/**
 * Later versions of a name, oldest first. A later version reads every event of the earlier ones (it
 * widens a bound or adds an optional field); it is a type of its own (`…v2`), so the published schema
 * of the earlier one never changes. `createEvent` emits the oldest version that carries the data as
 * the newest reads it, so users' consumers of an earlier type keep working until a run needs the later
 * one; upshift's consumers accept every version (`isEventOf` matches the name).
 */
export const laterVersions = Object.freeze({
  'upgrade.planned': Object.freeze([entry('upgrade.planned', 2, UpgradePlannedV2, lifecycle, 'The plan, when a migration has more than 4,096 shards (else v1); last event of a dry run.')] as const),
  'migration.requested': Object.freeze([entry('migration.requested', 2, MigrationRequestedV2, { consumer: 'migrate-shard' }, 'Backfill data, when a migration has more than 4,096 shards (else v1); fans out shard.requested.')] as const),
} satisfies { readonly [N in EventName]?: readonly CatalogueEntry<N>[] });

type LaterVersions = typeof laterVersions;
/** Every catalogue entry of a short name (the union of its versions). */
export type VersionOf<N extends EventName> = Catalogue[N] | (N extends keyof LaterVersions ? LaterVersions[N][number] : never);
/** Versioned CloudEvents types of a short name (`dev.upshift.upgrade.planned.v1` | `….v2`). */
export type EventType<N extends EventName = EventName> = VersionOf<N>['type'];
/** Parsed data of a short name, whichever version carried it. */
export type EventData<N extends EventName> = z.infer<VersionOf<N>['schema']>;
/** Short names of public lifecycle events. */
export type LifecycleEventName = { [N in EventName]: Catalogue[N]['lifecycle'] extends true ? N : never }[EventName];

const later: { readonly [N in EventName]?: readonly CatalogueEntry[] } = laterVersions;

/** The versions of a short name, oldest first. */
export function versionsOf(name: EventName): readonly CatalogueEntry[] {
  return [catalogue[name], ...(later[name] ?? [])];
}

/** All short names, in catalogue order. */
export const eventNames = Object.freeze(Object.keys(catalogue)) as readonly EventName[];

/** All entries, every version: in catalogue order, each name's versions oldest first. */
export const entries: readonly CatalogueEntry[] = Object.freeze(eventNames.flatMap((name) => versionsOf(name)));

const byType = new Map<string, CatalogueEntry>(entries.map((e) => [e.type, e]));

/** The entry of a CloudEvents type string, or undefined when upshift does not know it. */
export function entryForType(type: string): CatalogueEntry | undefined {
  return byType.get(type);
}

/** The entry of a short name. */
export function entryFor<N extends EventName>(name: N): Catalogue[N] {
  return catalogue[name];
}

/** Whether a short name is a catalogue event. */
export function isEventName(name: string): name is EventName {
  return Object.hasOwn(catalogue, name);
}

/** Work topics, one per function. */
export const workTopics: readonly WorkTopic[] = Object.freeze(['upshift.plan', 'upshift.rollout', 'upshift.migrate-shard', 'upshift.verify']);

/** Every topic with its partition count: 12 for migrate-shard (shards scale out), 3 for the rest. */
export const topics: readonly { readonly topic: Topic; readonly partitions: number }[] = Object.freeze([
  ...workTopics.map((topic) => ({ topic, partitions: topic === 'upshift.migrate-shard' ? 12 : 3 })),
  { topic: LIFECYCLE_TOPIC, partitions: 3 },
  { topic: DEAD_LETTER_TOPIC, partitions: 3 },
]);

/**
 * The function that consumes the dead-letter topic: every event of a run that delivery gave up on comes
 * back to it (any type), so the run is redriven or ends with a reason instead of waiting for ever. Its
 * dead-letter deliveries are never dead-lettered again.
 */
export const deadLetterConsumer: FunctionName = 'verify';

/** What a function consumes: the types and the topics they arrive on (dispatcher and knative manifests). */
export interface Routes {
  /** Versioned CloudEvents types the function handles. */
  readonly types: readonly string[];
  /** Kafka topics the function's consumer group subscribes to. */
  readonly topics: readonly Topic[];
  /** Entries, for schemas and names. */
  readonly entries: readonly CatalogueEntry[];
}

/** The types and topics a function consumes. */
export function routesFor(functionName: FunctionName): Routes {
  const mine = entries.filter((e) => e.consumer === functionName);
  return Object.freeze({
    types: Object.freeze(mine.map((e) => e.type)),
    topics: Object.freeze([...new Set(mine.map((e) => e.topic))]),
    entries: Object.freeze(mine),
  });
}
