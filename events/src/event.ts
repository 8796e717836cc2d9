/**
 * Typed, immutable upshift events: a plain frozen object with the CloudEvents attributes upshift
 * uses and data parsed by the catalogue schema. `createEvent` builds one, `toUpshiftEvent` checks
 * any CloudEvent-shaped value (e.g. what faas-js-runtime hands a function) against the catalogue.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { entryForType, versionsOf, type EventData, type EventName, type EventType, type CatalogueEntry } from './catalogue.ts';
import { dataSchemaOf } from './dataschema.ts';
import { ContractViolation, issuesFrom } from './errors.ts';
import { Producer } from './schemas/common.ts';
import { TraceParent, TraceState } from './trace.ts';

/** Recursively readonly: events are values, handlers cannot mutate what they received. */
export type DeepReadonly<T> = T extends (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** An upshift CloudEvent of short name N (spec 1.0 attributes plus extensions). */
export interface UpshiftEvent<N extends EventName = EventName> {
  readonly specversion: '1.0';
  /** Unique per source; consumers deduplicate on (source, id). */
  readonly id: string;
  /** `/upshift/<function>` (or `/upshift/cli`); third-party producers may use their own URI. */
  readonly source: string;
  readonly type: EventType<N>;
  /** The run id, or the shard id for shard events (same as the partition key). */
  readonly subject: string;
  /** RFC 3339 UTC, millisecond precision. */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  /** The URI of the JSON Schema `data` adheres to (the `$id` of the type's generated schema; dataschema.ts). */
  readonly dataschema: string;
  /** CloudEvents Kafka binding partitionkey extension; becomes the Kafka message key. */
  readonly partitionkey: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly data: DeepReadonly<EventData<N>>;
}

/** The event of each name in N, as a union (`EventOf<'a' | 'b'>` = `UpshiftEvent<'a'> | UpshiftEvent<'b'>`). */
export type EventOf<N extends EventName> = { [K in N]: UpshiftEvent<K> }[N];

/** Any upshift event, discriminated by `type`. */
export type AnyUpshiftEvent = EventOf<EventName>;

/** Options of createEvent: who emits it, optional deterministic id/time and trace context. */
export interface CreateEventOptions {
  /** The emitting function or `cli`; becomes `source: /upshift/<producer>`. */
  readonly producer: Producer;
  /** Defaults to a random UUID; handlers pass `derivedId(...)` so redeliveries emit the same id. */
  readonly id?: string;
  /** Defaults to now. */
  readonly time?: Date | string;
  readonly traceparent?: string;
  readonly tracestate?: string;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

const Envelope = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(256),
  source: z.string().min(1).max(512),
  type: z.string().min(1),
  subject: z.string().min(1).optional(),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.string().regex(/^application\/json(\s*;.*)?$/, 'must be application/json').optional(),
  dataschema: z.string().max(512).optional(),
  traceparent: TraceParent.optional(),
  tracestate: TraceState.optional(),
  data: z.unknown(),
});

function checkData(entry: CatalogueEntry, data: unknown): Record<string, unknown> {
  const parsed = entry.schema.safeParse(data);
  if (!parsed.success) throw new ContractViolation(entry.type, issuesFrom(parsed.error, ['data']));
  return parsed.data as Record<string, unknown>;
}

function assemble(entry: CatalogueEntry, envelope: z.infer<typeof Envelope>, data: Record<string, unknown>): AnyUpshiftEvent {
  const key = data[entry.keyField];
  if (typeof key !== 'string') throw new ContractViolation(entry.type, [{ path: `data.${entry.keyField}`, message: 'partition key missing' }]);
  if (envelope.subject !== undefined && envelope.subject !== key) {
    throw new ContractViolation(entry.type, [{ path: 'subject', message: `must equal data.${entry.keyField} (${key})` }]);
  }
  const dataschema = dataSchemaOf(entry.type);
  if (envelope.dataschema !== undefined && envelope.dataschema !== dataschema) {
    throw new ContractViolation(entry.type, [{ path: 'dataschema', message: `must be ${dataschema} (the schema of ${entry.type}) when given` }]);
  }
  const event = {
    specversion: '1.0', id: envelope.id, source: envelope.source, type: entry.type, subject: key,
    time: new Date(envelope.time).toISOString(), datacontenttype: 'application/json', dataschema, partitionkey: key,
    ...(envelope.traceparent === undefined ? {} : { traceparent: envelope.traceparent }),
    ...(envelope.tracestate === undefined ? {} : { tracestate: envelope.tracestate }),
    data,
  };
  return deepFreeze(event) as unknown as AnyUpshiftEvent;
}

/**
 * Checks a CloudEvent-shaped value against the catalogue and returns the typed, frozen event.
 * Throws ContractViolation naming the type and failing path (unknown type, bad attribute, bad data).
 */
export function toUpshiftEvent(value: unknown): AnyUpshiftEvent {
  const envelope = Envelope.safeParse(value);
  const type = typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string' ? value.type : undefined;
  if (!envelope.success) throw new ContractViolation(type, issuesFrom(envelope.error));
  const entry = entryForType(envelope.data.type);
  if (entry === undefined) throw new ContractViolation(envelope.data.type, [{ path: 'type', message: 'not an upshift catalogue type' }]);
  return assemble(entry, envelope.data, checkData(entry, envelope.data.data));
}

/**
 * The version a producer emits: the oldest of the name's versions whose schema takes the data exactly as
 * the newest reads it (nothing dropped), so consumers of an older type keep getting every event whose
 * data that type can carry. Throws the newest version's ContractViolation when no version takes it.
 */
export function emittedVersion(name: EventName, data: unknown): { readonly entry: CatalogueEntry; readonly data: Record<string, unknown> } {
  const versions = versionsOf(name);
  const newest = versions[versions.length - 1] as CatalogueEntry;
  const widest = checkData(newest, data);
  for (const entry of versions.slice(0, -1)) {
    const parsed = entry.schema.safeParse(data);
    if (parsed.success && isDeepStrictEqual(parsed.data, widest)) return { entry, data: widest };
  }
  return { entry: newest, data: widest };
}

/**
 * Builds a valid event of short name N, of the oldest version that carries `data` (`emittedVersion`);
 * throws ContractViolation when data breaks the schema.
 */
export function createEvent<N extends EventName>(name: N, data: EventData<N> | DeepReadonly<EventData<N>>, options: CreateEventOptions): EventOf<N> {
  const { entry, data: checked } = emittedVersion(name, data);
  const time = options.time === undefined ? new Date() : new Date(options.time);
  const envelope = Envelope.safeParse({
    specversion: '1.0', id: options.id ?? randomUUID(), source: `/upshift/${Producer.parse(options.producer)}`,
    type: entry.type, time: Number.isNaN(time.getTime()) ? 'invalid' : time.toISOString(),
    traceparent: options.traceparent, tracestate: options.tracestate, data,
  });
  if (!envelope.success) throw new ContractViolation(entry.type, issuesFrom(envelope.error));
  return assemble(entry, envelope.data, checked) as EventOf<N>;
}

/** Narrows an event to short name N, whichever of N's versions it is (`isEventOf(e, 'shard.requested')`). */
export function isEventOf<N extends EventName>(event: AnyUpshiftEvent, name: N): event is Extract<AnyUpshiftEvent, UpshiftEvent<N>> {
  return entryForType(event.type)?.name === name;
}

/** The short name of an event (`shard.requested`). */
export function nameOf(event: AnyUpshiftEvent): EventName {
  const entry = entryForType(event.type);
  if (entry === undefined) throw new ContractViolation(event.type, [{ path: 'type', message: 'not an upshift catalogue type' }]);
  return entry.name as EventName;
}

/** Decodes a CloudEvent-shaped value (SDK CloudEvent, faas-js-runtime event, parsed JSON) — see toUpshiftEvent. */
export const decode: (value: unknown) => AnyUpshiftEvent = toUpshiftEvent;
