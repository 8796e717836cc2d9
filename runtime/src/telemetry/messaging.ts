/**
 * The attributes of an event's handling span, by the OpenTelemetry semantic conventions for messaging
 * (Kafka) and CloudEvents, plus `upshift.run.id`. The consumer group and partition are the delivery's:
 * the dev dispatcher says them in `upshift-kafka-*` HTTP headers; a Knative KafkaSource passes a
 * CloudEvent record through unchanged, so there the group is the one the manifests give it
 * (`knativeConsumerGroup`) and the partition is not known.
 */
import {
  ATTR_CLOUDEVENTS_EVENT_ID, ATTR_CLOUDEVENTS_EVENT_SOURCE, ATTR_CLOUDEVENTS_EVENT_SUBJECT, ATTR_CLOUDEVENTS_EVENT_TYPE,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME, ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_KAFKA_MESSAGE_KEY, ATTR_MESSAGING_KAFKA_OFFSET, ATTR_MESSAGING_MESSAGE_ID, ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE, ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';
import type { Attributes } from '@opentelemetry/api';
import { RUN_ID_ATTRIBUTE } from './run-context.ts';

/** HTTP headers a deliverer may add to say where a record came from (the dev dispatcher does). */
export const DELIVERY_HEADERS = {
  consumerGroup: 'upshift-kafka-consumer-group',
  partition: 'upshift-kafka-partition',
  offset: 'upshift-kafka-offset',
} as const;

/** The consumer group of a function's KafkaSource in the manifests (knative/src/eventing.ts uses it). */
export function knativeConsumerGroup(functionName: string, deadLetters = false): string {
  return `upshift-${functionName}${deadLetters ? '-dead-letters' : ''}`;
}

/** Where a delivery came from in Kafka, as far as it is known. */
export interface DeliveryOrigin {
  readonly consumerGroup: string;
  readonly partition?: number;
  readonly offset?: string;
}

/** The origin a delivery's headers state, else the manifests' consumer group of `functionName`. */
export function deliveryOrigin(delivery: unknown, functionName: string, deadLetters: boolean): DeliveryOrigin {
  const headers = (typeof delivery === 'object' && delivery !== null ? (delivery as { headers?: unknown }).headers : undefined) ?? {};
  const header = (name: string): string | undefined => {
    const value = (headers as Record<string, unknown>)[name];
    const single = Array.isArray(value) ? value[0] : value;
    return typeof single === 'string' && single.length > 0 && single.length <= 256 ? single : undefined;
  };
  const partition = Number.parseInt(header(DELIVERY_HEADERS.partition) ?? '', 10);
  const offset = header(DELIVERY_HEADERS.offset);
  return {
    consumerGroup: header(DELIVERY_HEADERS.consumerGroup) ?? knativeConsumerGroup(functionName, deadLetters),
    ...(Number.isInteger(partition) && partition >= 0 ? { partition } : {}),
    ...(offset && /^\d+$/.test(offset) ? { offset } : {}),
  };
}

/** The event fields the handling span describes. */
export interface HandledEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string | undefined;
  readonly partitionkey?: string | undefined;
}

/** Messaging + CloudEvents attributes of the handling (`process`) span of `event` from `topic`. */
export function handlingAttributes(event: HandledEvent, topic: string, origin: DeliveryOrigin, runId: string | undefined): Attributes {
  return {
    [ATTR_MESSAGING_SYSTEM]: 'kafka',
    [ATTR_MESSAGING_DESTINATION_NAME]: topic,
    [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
    [ATTR_MESSAGING_OPERATION_NAME]: 'process',
    [ATTR_MESSAGING_MESSAGE_ID]: event.id,
    [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: origin.consumerGroup,
    // The CloudEvents Kafka binding: the record key is the `partitionkey` extension.
    ...(event.partitionkey ? { [ATTR_MESSAGING_KAFKA_MESSAGE_KEY]: event.partitionkey } : {}),
    ...(origin.partition !== undefined ? { [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(origin.partition) } : {}),
    ...(origin.offset !== undefined ? { [ATTR_MESSAGING_KAFKA_OFFSET]: Number(origin.offset) } : {}),
    [ATTR_CLOUDEVENTS_EVENT_ID]: event.id,
    [ATTR_CLOUDEVENTS_EVENT_SOURCE]: event.source,
    [ATTR_CLOUDEVENTS_EVENT_TYPE]: event.type,
    ...(event.subject ? { [ATTR_CLOUDEVENTS_EVENT_SUBJECT]: event.subject } : {}),
    ...(runId ? { [RUN_ID_ATTRIBUTE]: runId } : {}),
  };
}
