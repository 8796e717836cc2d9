/**
 * Publishing a control: `run.control.requested` (the events package's `runControlEvent`, source
 * `/upshift/dashboard`, its id the control id) to verify's topic under the functions' topic prefix, keyed
 * by the run id so the controls of one run stay in order. One producer for the process, connected on the
 * first control.
 */
import { encodeKafka, runControlEvent, type AnyUpshiftEvent } from '@upshift/events';
import { createKafka, KafkaPublisher, kafkaSecurity, type KafkaSecuritySettings } from '@upshift/runtime';
import type { ControlRequestData } from '../core/control-request.ts';

/** Sends a control request; resolves with the event once the broker has it. */
export interface ControlPublisher {
  publish(data: ControlRequestData): Promise<AnyUpshiftEvent>;
  close(): Promise<void>;
}

/** A publisher on Kafka. */
export function kafkaControlPublisher(brokers: readonly string[], topicPrefix: string, security: KafkaSecuritySettings): ControlPublisher {
  const publisher = new KafkaPublisher(createKafka(brokers, 'upshift-dashboard', kafkaSecurity(security)));
  return {
    async publish(data) {
      const event = runControlEvent(data, 'dashboard') as AnyUpshiftEvent;
      const record = encodeKafka(event);
      await publisher.publish([{ topic: `${topicPrefix}${record.topic}`, key: record.key, event }]);
      return event;
    },
    close: () => publisher.close(),
  };
}
