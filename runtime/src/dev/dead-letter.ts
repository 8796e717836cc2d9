/**
 * Dead-lettering as Knative does it: the original event goes to the dead-letter topic with extension
 * attributes `knativeerrordest` (the subscriber URL), `knativeerrorcode` (last HTTP status) and
 * `knativeerrordata` (the reason: last response body or the dispatcher's explanation). Records that
 * are not CloudEvents at all are forwarded unchanged with the same names as plain headers.
 */
import { Kafka as KafkaBinding } from 'cloudevents';
import type { CloudEvent } from 'cloudevents';
import type { KafkaMessage, Message } from '../transport/kafkajs.ts';

/** Why a record was dead-lettered. */
export interface DeadLetterReason {
  readonly destination: string;
  readonly status: number;
  readonly reason: string;
}

function stringHeaders(message: Pick<KafkaMessage, 'headers'>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const single = Array.isArray(value) ? value[0] : value;
    if (single !== undefined) headers[name.toLowerCase()] = single.toString();
  }
  return headers;
}

/** The dead-letter record for `message`. */
export function deadLetterRecord(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>, why: DeadLetterReason): Message {
  const extensions = {
    knativeerrordest: why.destination,
    knativeerrorcode: String(why.status),
    knativeerrordata: why.reason,
  };
  const headers = stringHeaders(message);
  const value = message.value?.toString() ?? '';
  try {
    const wire = { headers, key: message.key?.toString() ?? '', value, body: value };
    const event = KafkaBinding.toEvent(wire) as CloudEvent<unknown>;
    const encoded = KafkaBinding.binary(event.cloneWith(extensions, false));
    const out: Record<string, string> = {};
    for (const [name, headerValue] of Object.entries(encoded.headers)) if (typeof headerValue === 'string') out[name] = headerValue;
    const body = typeof encoded.value === 'string' ? encoded.value : JSON.stringify(encoded.value);
    return { key: message.key ?? null, value: body, headers: out };
  } catch {
    return { key: message.key ?? null, value: message.value, headers: { ...headers, ...extensions } };
  }
}
