/**
 * Topic administration: the broker runs with auto.create.topics.enable=false, so every process
 * that produces or consumes calls `ensureTopics(admin)` first; it only creates what is missing.
 */
import type { Admin } from 'kafkajs';
import { LIFECYCLE_TOPIC, topics, type Topic } from '../catalogue.ts';

/** Options of ensureTopics; replication factor -1 means the broker's default. */
export interface EnsureTopicsOptions {
  readonly replicationFactor?: number;
}

/** Creates every catalogue topic that does not exist yet (idempotent); returns the created names. */
export async function ensureTopics(admin: Admin, options: EnsureTopicsOptions = {}): Promise<Topic[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: options.replicationFactor ?? -1 })),
    });
  } catch (error) {
    // Another process may have created them concurrently (TOPIC_ALREADY_EXISTS); re-check.
    const now = new Set(await admin.listTopics());
    if (missing.some((t) => !now.has(t.topic))) throw error;
  }
  return missing.map((t) => t.topic);
}

/** A position per partition of a topic. */
export interface PartitionOffset {
  readonly partition: number;
  readonly offset: string;
}

/** Errors a freshly created topic answers with until its partition leaders are elected. */
const leaderPending = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION']);

/**
 * The current end of a topic (a catalogue topic, or one with a deployment's prefix); a consumer started
 * from here sees every later message. Retries for up to 15 s while a just-created topic elects its leaders.
 */
export async function topicEnd(admin: Admin, topic: Topic | string = LIFECYCLE_TOPIC): Promise<PartitionOffset[]> {
  const deadline = Date.now() + 15_000;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map((o) => ({ partition: o.partition, offset: o.high }));
    } catch (error) {
      const type = (error as { type?: string }).type ?? '';
      if (!leaderPending.has(type) || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
