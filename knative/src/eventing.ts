/**
 * Eventing objects: one KafkaSource per function over exactly the topics the catalogue routes to it
 * (ordered per partition, retry with exponential backoff, dead letters to a KafkaSink), and that sink.
 * A 400 from a function is not retried by Knative; 409/429/5xx are (DESIGN.md, delivery semantics).
 *
 * **Why `ordering: ordered`.** upshift needs the records of one key (a run, a shard) in order — an
 * operator's pause then resume of a run, a shard's continuation after its previous slice — and nothing
 * across keys. Knative offers per partition (`ordered`) or none at all (`unordered`: a key's records
 * overtake one another), so the sources stay ordered and a function scales out by partitions. `upshift
 * dev` delivers by key (`UPSHIFT_DEV_DELIVERY_ORDER=key`, its default): every order an ordered source can
 * produce, and more, so what passes locally holds in the cluster; `=partition` delivers exactly as here.
 */
import { DEAD_LETTER_TOPIC } from '@upshift/events/contract';
import { deliveryPolicy } from '@upshift/runtime/delivery';
import { knativeConsumerGroup } from '@upshift/runtime/telemetry/messaging';
import type { InstallSettings } from './install.ts';
import { kafkaSinkAuth, kafkaSourceNet } from './kafka-auth.ts';
import { labelsOf } from './service.ts';
import { DEAD_LETTER_SINK, deadLetterPartitions, PLACEHOLDER_BROKERS } from './spec.ts';
import type { FunctionDeployment } from './spec.ts';

/** Milliseconds as an ISO 8601 duration (`PT0.2S`), the form Knative's `delivery` takes. */
export function isoDuration(ms: number): string {
  return `PT${Number((ms / 1000).toFixed(3))}S`;
}

/**
 * Retry policy of every KafkaSource: the runtime's `deliveryPolicy`, the one the dev dispatcher
 * follows (its window outlasts a dead worker's shard lease: see `@upshift/runtime/delivery`).
 */
export const delivery = {
  retry: deliveryPolicy.retries,
  backoffPolicy: deliveryPolicy.backoffPolicy,
  backoffDelay: isoDuration(deliveryPolicy.backoffDelayMs),
} as const;

/** A key's records must not overtake one another, and Knative has no per-key mode: see the file's comment. */
export const sourceOrdering = 'ordered';

/** The sources.knative.dev/v1 KafkaSource feeding a function's Knative Service, authenticated as the install says. */
export function kafkaSource(fn: FunctionDeployment, kafka: InstallSettings['kafka']) {
  return {
    apiVersion: 'sources.knative.dev/v1',
    kind: 'KafkaSource',
    metadata: { name: fn.resourceName, labels: labelsOf(fn.name) },
    spec: {
      bootstrapServers: [PLACEHOLDER_BROKERS],
      ...kafkaSourceNet(kafka),
      topics: [...fn.topics],
      consumerGroup: knativeConsumerGroup(fn.name), // the handling span's messaging.consumer.group.name
      initialOffset: 'earliest',
      ordering: sourceOrdering,
      sink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: fn.resourceName } },
      delivery: {
        ...delivery,
        timeout: isoDuration(fn.scaling.timeoutSeconds * 1000),
        deadLetterSink: { ref: { apiVersion: 'eventing.knative.dev/v1alpha1', kind: 'KafkaSink', name: DEAD_LETTER_SINK } },
      },
    },
  };
}

/**
 * The KafkaSource feeding the dead-letter topic back to the dead-letter consumer (verify), which redrives
 * a run's lost event or ends the run. It has no dead-letter sink of its own: a dead letter that cannot be
 * delivered is not dead-lettered again (no loop).
 */
export function deadLetterSource(fn: FunctionDeployment, kafka: InstallSettings['kafka']) {
  return {
    apiVersion: 'sources.knative.dev/v1',
    kind: 'KafkaSource',
    metadata: { name: `${fn.resourceName}-dead-letters`, labels: labelsOf(fn.name) },
    spec: {
      bootstrapServers: [PLACEHOLDER_BROKERS],
      ...kafkaSourceNet(kafka),
      topics: [DEAD_LETTER_TOPIC],
      consumerGroup: knativeConsumerGroup(fn.name, true),
      initialOffset: 'earliest',
      ordering: sourceOrdering,
      sink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: fn.resourceName } },
      delivery: { ...delivery, timeout: isoDuration(fn.scaling.timeoutSeconds * 1000) },
    },
  };
}

/** The eventing.knative.dev/v1alpha1 KafkaSink writing dead letters to the dead-letter topic. */
export function deadLetterSink(kafka: InstallSettings['kafka']) {
  return {
    apiVersion: 'eventing.knative.dev/v1alpha1',
    kind: 'KafkaSink',
    metadata: { name: DEAD_LETTER_SINK, labels: labelsOf('dead-letter') },
    spec: {
      topic: DEAD_LETTER_TOPIC,
      bootstrapServers: [PLACEHOLDER_BROKERS],
      contentMode: 'binary',
      numPartitions: deadLetterPartitions,
      ...kafkaSinkAuth(kafka),
    },
  };
}
