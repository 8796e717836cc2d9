/**
 * Publishing an operator control (`run.control.requested`) from the CLI or the dashboard. The event id
 * is the control id, so the same control published twice is one event to verify's inbox; verify also
 * acts once per control id whatever the event id.
 */
import { createEvent, type UpshiftEvent } from '../event.ts';
import type { RunControlRequested } from '../schemas/control.ts';
import { newTraceparent } from '../trace.ts';
import type { KafkaConnection } from './connection.ts';
import { connectProducer } from './produce.ts';

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
  connection: KafkaConnection, data: RunControlRequested, options: { readonly producer: ControlProducer; readonly topicPrefix?: string },
): Promise<UpshiftEvent<'run.control.requested'>> {
  const event = runControlEvent(data, options.producer);
  const producer = await connectProducer(connection);
  try {
    await producer.publish([event], options.topicPrefix ? { topicPrefix: options.topicPrefix } : {});
  } finally {
    await producer.close();
  }
  return event;
}
