/**
 * Publishing an operator control (`run.control.requested`) from the CLI or the dashboard. The event id
 * is the control id, so the same control published twice is one event to verify's inbox; verify also
 * acts once per control id whatever the event id.
 */
import type { KafkaConfig } from 'kafkajs';
import { encodeKafka } from '../bindings/kafka.ts';
import { createEvent, type UpshiftEvent } from '../event.ts';
import type { RunControlRequested } from '../schemas/control.ts';
import { newTraceparent } from '../trace.ts';
import { connectProducer, kafkaClient } from './client.ts';

/** Who publishes a control. */
export type ControlProducer = 'cli' | 'dashboard';

/** The control event (validated: throws ContractViolation naming the field), its id the control id. */
export function runControlEvent(data: RunControlRequested, producer: ControlProducer): UpshiftEvent<'run.control.requested'> {
  return createEvent('run.control.requested', data, { producer, id: data.controlId, traceparent: newTraceparent() });
}

/**
 * Publishes a control to verify's topic (`<topicPrefix>upshift.verify`, keyed by the run, acknowledged
 * by all in-sync replicas) and returns the event sent.
 */
export async function publishRunControl(
  kafkaConfig: KafkaConfig, data: RunControlRequested, options: { readonly producer: ControlProducer; readonly topicPrefix?: string },
): Promise<UpshiftEvent<'run.control.requested'>> {
  const event = runControlEvent(data, options.producer);
  const record = encodeKafka(event);
  const producer = await connectProducer(kafkaClient(kafkaConfig));
  try {
    await producer.send({ topic: `${options.topicPrefix ?? ''}${record.topic}`, acks: -1, messages: [{ key: record.key, value: record.value, headers: { ...record.headers } }] });
  } finally {
    await producer.disconnect();
  }
  return event;
}
