/**
 * Creates the catalogue's topics (auto-creation is off on our brokers), optionally under a prefix so
 * test runs sharing a broker never see each other's events.
 */
import { topics } from '@upshift/events';
import type { Admin } from 'kafkajs';
import { wrapError } from '../wrap-error.ts';

/** A topic to create. */
export interface TopicSpec {
  readonly topic: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
}

/** Creates every catalogue topic under `prefix` that does not exist yet; returns the names. */
export async function ensureCatalogueTopics(admin: Admin, prefix = '', extra: readonly TopicSpec[] = []): Promise<string[]> {
  const wanted = [
    ...topics.map((spec) => ({ topic: `${prefix}${spec.topic}`, numPartitions: spec.partitions, replicationFactor: 1 })),
    ...extra,
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((spec) => !existing.has(spec.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
      return wanted.map((spec) => spec.topic);
    } catch (err) {
      // Fresh topics can briefly report UNKNOWN_TOPIC_OR_PARTITION while leaders are elected.
      const retriable = (err as { retriable?: boolean }).retriable === true || (err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS';
      if (!retriable || attempt >= 5) throw wrapError(err, { operation: 'kafka.createTopics' });
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** Deletes the topics under `prefix` (test clean-up). */
export async function deletePrefixedTopics(admin: Admin, prefix: string): Promise<void> {
  if (prefix === '') throw new Error('refusing to delete unprefixed topics');
  const names = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
  if (names.length > 0) await admin.deleteTopics({ topics: names }).catch(() => undefined);
}
