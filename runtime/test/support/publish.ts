/** Publishing catalogue events to prefixed topics, as a user or an upstream function would. */
import { retryWhileRetriable } from '@upshift/events';
import { createEvent, encodeKafka } from '@upshift/events';
import type { AnyUpshiftEvent, EventData, EventName } from '@upshift/events';
import { createKafka } from '../../src/transport/kafka.ts';
import { brokersOf } from './stack.ts';

/** Builds a valid event (as the CLI would) with the given id. */
export function cliEvent<N extends EventName>(name: N, data: EventData<N>, id?: string): AnyUpshiftEvent {
  return createEvent(name, data, { producer: 'cli', ...(id ? { id } : {}) }) as AnyUpshiftEvent;
}

/** Publishes each event (in order, possibly repeated) to its prefixed catalogue topic. */
export async function publishEvents(env: Record<string, string>, prefix: string, events: readonly AnyUpshiftEvent[]): Promise<void> {
  const producer = createKafka(brokersOf(env), 'upshift-test-producer').producer();
  await producer.connect();
  try {
    for (const event of events) {
      const record = encodeKafka(event);
      const message = { topic: `${prefix}${record.topic}`, acks: -1, messages: [{ key: record.key, value: record.value, headers: { ...record.headers } }] };
      await retryWhileRetriable(() => producer.send(message), 10_000);
    }
  } finally {
    await producer.disconnect();
  }
}

