/**
 * A run's lifecycle events from Kafka, from the current end of the (optionally prefixed) lifecycle
 * topic: the prefix is `UPSHIFT_TOPIC_PREFIX`, which isolates a demo or a test on a shared broker.
 */
import { randomUUID } from 'node:crypto';
import { watchRun, type AnyUpshiftEvent } from '@upshift/events';
import { cliKafkaConfig } from '../publish.ts';

/** A running subscription. */
export interface LifecycleFeed {
  stop(): Promise<void>;
}

/** Calls `onEvent` with each lifecycle event of `runId` published from now on; undecodable messages are skipped. */
export async function followLifecycle(brokers: readonly string[], prefix: string, runId: string, onEvent: (event: AnyUpshiftEvent) => void): Promise<LifecycleFeed> {
  // A short fetch wait, so that stopping the feed does not wait for a broker holding an empty fetch.
  const watch = await watchRun(cliKafkaConfig(brokers, 'upshift-watch'), runId, {
    onEvent, topicPrefix: prefix, groupId: `${prefix}upshift-watch-${randomUUID()}`, maxWaitMs: 200,
  });
  return { stop: watch.stop };
}
