/**
 * In-memory transport for unit tests only: records published events per topic and lets a test
 * subscribe. Never used by a real process (no durability, no partitions, no consumer groups).
 */
import type { AnyUpshiftEvent } from '@upshift/events';
import type { OutgoingMessage, Publisher } from './types.ts';

/** A Publisher that keeps every message in memory. */
export class MemoryTransport implements Publisher {
  readonly published: OutgoingMessage[] = [];
  #listeners = new Map<string, Array<(event: AnyUpshiftEvent) => void>>();
  /** When set, publish rejects with it (simulate a broker outage). */
  failWith: Error | undefined;

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    for (const message of messages) {
      this.published.push(message);
      for (const listener of this.#listeners.get(message.topic) ?? []) listener(message.event);
    }
  }

  async check(): Promise<void> {
    if (this.failWith) throw this.failWith;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }

  /** Calls `listener` for each event later published to `topic`. */
  subscribe(topic: string, listener: (event: AnyUpshiftEvent) => void): void {
    const list = this.#listeners.get(topic) ?? [];
    list.push(listener);
    this.#listeners.set(topic, list);
  }

  /** Events published to `topic` so far. */
  eventsOn(topic: string): AnyUpshiftEvent[] {
    return this.published.filter((message) => message.topic === topic).map((message) => message.event);
  }
}
