/**
 * Topic administration: the broker runs with auto.create.topics.enable=false, so every process
 * that produces or consumes ensures the catalogue topics first; only what is missing is created.
 */
import type { Admin } from 'kafkajs';
import { LIFECYCLE_TOPIC, topics, type Topic } from '../catalogue.ts';
import { kafkaClient, withAdmin } from './client.ts';
import type { KafkaConnection } from './connection.ts';
import { retryWhileRetriable } from './retry.ts';

/** Options of ensureTopics. */
export interface EnsureTopicsOptions {
  /** Replicas of each created topic; -1 (default) means the broker's default. */
  readonly replicationFactor?: number;
  /** Prepended to the topic names, as the functions' UPSHIFT_TOPIC_PREFIX (an isolated deployment or test). */
  readonly topicPrefix?: string;
}

/** A position per partition of a topic. */
export interface PartitionOffset {
  readonly partition: number;
  readonly offset: string;
}

/** Creates every catalogue topic (under the prefix) that does not exist yet, with a connected admin. */
export async function createMissingTopics(admin: Admin, options: EnsureTopicsOptions = {}): Promise<string[]> {
  const wanted = topics.map((t) => ({ topic: `${options.topicPrefix ?? ''}${t.topic}`, numPartitions: t.partitions }));
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({ ...t, replicationFactor: options.replicationFactor ?? -1 })),
    });
  } catch (error) {
    // Another process may have created them concurrently (TOPIC_ALREADY_EXISTS); re-check.
    const now = new Set(await admin.listTopics());
    if (missing.some((t) => !now.has(t.topic))) throw error;
  }
  return missing.map((t) => t.topic);
}

/** The end of `topic` per partition, with a connected admin; retries while a just-created topic elects its leaders. */
export async function endOffsets(admin: Admin, topic: string): Promise<PartitionOffset[]> {
  const offsets = await retryWhileRetriable(() => admin.fetchTopicOffsets(topic));
  return offsets.map((o) => ({ partition: o.partition, offset: o.high }));
}

/** Creates every catalogue topic (under `topicPrefix`) that does not exist yet (idempotent); returns the created names. */
export function ensureTopics(connection: KafkaConnection, options: EnsureTopicsOptions = {}): Promise<string[]> {
  return withAdmin(kafkaClient(connection), (admin) => createMissingTopics(admin, options));
}

/**
 * The current end of a topic (a catalogue topic, or one with a deployment's prefix); a consumer started
 * from here (`startOffsets`) sees every later message.
 */
export function topicEnd(connection: KafkaConnection, topic: Topic | string = LIFECYCLE_TOPIC): Promise<PartitionOffset[]> {
  return withAdmin(kafkaClient(connection), (admin) => endOffsets(admin, topic));
}
