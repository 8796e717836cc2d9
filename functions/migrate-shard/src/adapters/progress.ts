/**
 * Progress events written in a checkpoint's own transaction: the outbox row commits with the
 * checkpoint and the relay publishes it at once, instead of when the (long) handling commits.
 */
import { createEvent, derivedId, entryFor } from '@upshift/events';
import type { AnyUpshiftEvent, EventData } from '@upshift/events';
import { traceAttributesOf } from '@upshift/runtime';
import type { TxClient } from '@upshift/runtime';
import { storeOutputs } from '@upshift/runtime/store/outbox.ts';

/**
 * Puts a `run.progress` in the outbox within `tx`. Its id derives from the input event and `key`, so a
 * replayed batch produces the same id; the input's inbox row is not touched (it commits later).
 */
export async function enqueueProgress(tx: TxClient, input: AnyUpshiftEvent, topicPrefix: string, data: EventData<'run.progress'>, key: string): Promise<void> {
  const event = createEvent('run.progress', data, {
    producer: 'migrate-shard', id: derivedId(input.source, input.id, 'run.progress', key), ...traceAttributesOf(),
  });
  await storeOutputs(tx, { consumer: 'migrate-shard', source: event.source, id: `progress:${event.id}` }, [{
    source: event.source, id: event.id, type: event.type, topic: `${topicPrefix}${entryFor('run.progress').topic}`,
    partitionKey: event.partitionkey, event: event as unknown as Readonly<Record<string, unknown>>,
  }]);
}
