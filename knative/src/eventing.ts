/**
 * Eventing objects: one KafkaSource per function over exactly the topics the catalogue routes to it
 * (ordered per partition, retry with exponential backoff, dead letters to a KafkaSink), and that sink.
 * A 400 from a function is not retried by Knative; 409/429/5xx are (DESIGN.md, delivery semantics).
 */
import { DEAD_LETTER_TOPIC } from '@upshift/events/contract';
import { labelsOf } from './service.ts';
import { DEAD_LETTER_SINK, deadLetterPartitions, PLACEHOLDER_BROKERS } from './spec.ts';
import type { FunctionDeployment } from './spec.ts';

/** Retry policy of every KafkaSource: about 0.5+1+2+4+8+16 s before dead-lettering. */
export const delivery = { retry: 6, backoffPolicy: 'exponential', backoffDelay: 'PT0.5S' } as const;

/** The sources.knative.dev/v1 KafkaSource feeding a function's Knative Service. */
export function kafkaSource(fn: FunctionDeployment) {
  return {
    apiVersion: 'sources.knative.dev/v1',
    kind: 'KafkaSource',
    metadata: { name: fn.resourceName, labels: labelsOf(fn.name) },
    spec: {
      bootstrapServers: [PLACEHOLDER_BROKERS],
      topics: [...fn.topics],
      consumerGroup: fn.resourceName,
      initialOffset: 'earliest',
      ordering: 'ordered',
      sink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: fn.resourceName } },
      delivery: {
        ...delivery,
        timeout: `PT${fn.scaling.timeoutSeconds}S`,
        deadLetterSink: { ref: { apiVersion: 'eventing.knative.dev/v1alpha1', kind: 'KafkaSink', name: DEAD_LETTER_SINK } },
      },
    },
  };
}

/** The eventing.knative.dev/v1alpha1 KafkaSink writing dead letters to the dead-letter topic. */
export function deadLetterSink() {
  return {
    apiVersion: 'eventing.knative.dev/v1alpha1',
    kind: 'KafkaSink',
    metadata: { name: DEAD_LETTER_SINK, labels: labelsOf('dead-letter') },
    spec: {
      topic: DEAD_LETTER_TOPIC,
      bootstrapServers: [PLACEHOLDER_BROKERS],
      contentMode: 'binary',
      numPartitions: deadLetterPartitions,
    },
  };
}
