/**
 * Topic administration: the broker runs with auto.create.topics.enable=false, so every process
 * that produces or consumes calls `ensureTopics(admin)` first; it only creates what is missing.
 */
import type { Admin } from 'kafkajs';
import { LIFECYCLE_TOPIC, topics, type Topic } from '../catalogue.ts';
import { retryWhileRetriable } from './retry.ts';

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

/**
 * The current end of a topic (a catalogue topic, or one with a deployment's prefix); a consumer started
 * from here sees every later message. Retries while a just-created topic elects its leaders.
 */
export async function topicEnd(admin: Admin, topic: Topic | string = LIFECYCLE_TOPIC): Promise<PartitionOffset[]> {
  const offsets = await retryWhileRetriable(() => admin.fetchTopicOffsets(topic));
  return offsets.map((o) => ({ partition: o.partition, offset: o.high }));
}
