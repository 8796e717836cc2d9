/**
 * CloudEvents Kafka protocol binding via the SDK's `Kafka` binding. Binary mode by default
 * (§3.2: attributes as `ce_` headers, data as the value), structured accepted (§3.3). The
 * `partitionkey` extension becomes the message key (§3.1 Key Mapping).
 */
import { Kafka as KafkaBinding } from 'cloudevents';
import { entryForType, type Topic } from '../catalogue.ts';
import { ContractViolation } from '../errors.ts';
import type { AnyUpshiftEvent } from '../event.ts';
import { fromSdkEvent, guardSdk, toSdkEvent, typeHint, type ContentMode } from './sdk.ts';

/** A record ready for any Kafka producer: a topic, and a message's key, value, headers and timestamp. */
export interface KafkaRecord {
  readonly topic: Topic;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp?: string;
}

/** A consumed Kafka message, as a client delivers it (key, value and headers as strings or bytes). */
export interface IncomingKafkaMessage {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Readonly<Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>>;
}

function headerText(value: Buffer | string | readonly (Buffer | string)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const single = Array.isArray(value) ? value[0] : value;
  return single === undefined ? undefined : single.toString();
}

function stringHeaders(headers: IncomingKafkaMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) out[name.toLowerCase()] = text;
  }
  return out;
}

/** Encodes an event for Kafka (binary by default); throws ContractViolation if the event is invalid. */
export function encodeKafka(event: AnyUpshiftEvent, options: { readonly mode?: ContentMode } = {}): KafkaRecord {
  const sdkEvent = toSdkEvent(event);
  const message = guardSdk(event.type, () => (options.mode === 'structured' ? KafkaBinding.structured(sdkEvent) : KafkaBinding.binary(sdkEvent)));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) if (typeof value === 'string') headers[name] = value;
  const value = typeof message.value === 'string' ? message.value : JSON.stringify(message.value);
  const entry = entryForType(event.type);
  if (entry === undefined) throw new ContractViolation(event.type, [{ path: 'type', message: 'not an upshift catalogue type' }]);
  return Object.freeze({
    topic: entry.topic,
    key: event.partitionkey,
    value,
    headers: Object.freeze(headers),
    ...(message.timestamp === undefined ? {} : { timestamp: message.timestamp }),
  });
}

/** Decodes a Kafka message (binary or structured) into a typed event, or throws ContractViolation. */
export function decodeKafka(message: IncomingKafkaMessage): AnyUpshiftEvent {
  const headers = stringHeaders(message.headers);
  const value = message.value === null ? undefined : message.value.toString();
  const hint = typeHint(headers, value, 'ce_type');
  if (value === undefined || value === '') throw new ContractViolation(hint, [{ path: 'data', message: 'message has no value' }]);
  const key = message.key === null || message.key === undefined ? '' : message.key.toString();
  const wire = { headers, key, value, body: value };
  if (!guardSdk(hint, () => KafkaBinding.isEvent(wire))) {
    throw new ContractViolation(hint, [{ path: '(message)', message: 'not a CloudEvent (no ce_id header, not application/cloudevents+json)' }]);
  }
  const decoded = guardSdk(hint, () => KafkaBinding.toEvent(wire));
  return fromSdkEvent(decoded);
}
