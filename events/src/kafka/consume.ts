/**
 * Typed consuming for users and tools: `consume` routes decoded events to handlers by short name,
 * `onLifecycle` does it for the public lifecycle topic, `watchRun` follows one run to its end.
 */
import { retryWhileRetriable } from './retry.ts';
import { randomUUID } from 'node:crypto';
import type { Consumer, KafkaConfig, KafkaMessage } from 'kafkajs';
import { catalogue, LIFECYCLE_TOPIC, type EventData, type EventName, type LifecycleEventName } from '../catalogue.ts';
import { decodeKafka } from '../bindings/kafka.ts';
import { ContractViolation } from '../errors.ts';
import { nameOf, type AnyUpshiftEvent, type DeepReadonly, type UpshiftEvent } from '../event.ts';
import { kafkaClient, withAdmin } from './client.ts';
import { ensureTopics, topicEnd, type PartitionOffset } from './topics.ts';

/** A handler of one event type: typed data first, the whole event second. */
export type EventHandler<N extends EventName> = (data: DeepReadonly<EventData<N>>, event: UpshiftEvent<N>) => void | Promise<void>;
/** Handlers keyed by short name; a handler that throws makes kafkajs redeliver (at-least-once). */
export type Handlers = { readonly [N in EventName]?: EventHandler<N> };
/** Handlers of public lifecycle events only. */
export type LifecycleHandlers = { readonly [N in LifecycleEventName]?: EventHandler<N> };

/** Options of consume/onLifecycle. */
export interface ConsumeOptions {
  /** Consumer group; defaults to a fresh `upshift-<uuid>` (each call sees every message from its start position). */
  readonly groupId?: string;
  /** Read from the earliest retained message for a new group (default: only new messages). */
  readonly fromBeginning?: boolean;
  /** Start positions per partition (all subscribed topics), e.g. from `lifecycleEnd`. */
  readonly startOffsets?: readonly PartitionOffset[];
  /** Called with messages that break the contract; they are skipped (default: ignored). */
  readonly onInvalid?: (error: ContractViolation, message: KafkaMessage) => void | Promise<void>;
  /** Prepended to the topic names, as the functions' UPSHIFT_TOPIC_PREFIX (an isolated deployment or test). */
  readonly topicPrefix?: string;
}

/** A running typed consumer. */
export interface Subscription {
  /** Disconnects the consumer. */
  readonly stop: () => Promise<void>;
}

async function dispatch(handlers: Handlers, message: KafkaMessage, options: ConsumeOptions): Promise<void> {
  let event: AnyUpshiftEvent;
  try {
    event = decodeKafka(message);
  } catch (error) {
    if (!(error instanceof ContractViolation)) throw error;
    await options.onInvalid?.(error, message);
    return;
  }
  const handler = handlers[nameOf(event)] as EventHandler<EventName> | undefined;
  if (handler) await handler(event.data, event as UpshiftEvent<EventName>);
}

async function subscribe(consumer: Consumer, topics: readonly string[], options: ConsumeOptions): Promise<void> {
  await consumer.connect();
  await retryWhileRetriable(() => consumer.subscribe({ topics: [...topics], fromBeginning: options.fromBeginning ?? false }));
}

/** Consumes the topics of the handled types and calls each handler with typed, validated data. */
export async function consume(kafkaConfig: KafkaConfig, handlers: Handlers, options: ConsumeOptions = {}): Promise<Subscription> {
  const names = Object.keys(handlers) as EventName[];
  const topics = [...new Set(names.map((n) => `${options.topicPrefix ?? ''}${catalogue[n].topic}`))];
  if (topics.length === 0) throw new TypeError('consume: no handlers given');
  const kafka = kafkaClient(kafkaConfig);
  if (!options.topicPrefix) await withAdmin(kafka, (admin) => ensureTopics(admin));
  const consumer = kafka.consumer({ groupId: options.groupId ?? `upshift-${randomUUID()}`, allowAutoTopicCreation: false });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await subscribe(consumer, topics, options);
  await consumer.run({ eachMessage: ({ message }) => dispatch(handlers, message, options) });
  for (const topic of topics) for (const start of options.startOffsets ?? []) consumer.seek({ topic, ...start });
  await joined;
  return { stop: () => consumer.disconnect() };
}

/** Consumes the public lifecycle topic with typed handlers (`'upgrade.completed': (data) => …`). */
export function onLifecycle(kafkaConfig: KafkaConfig, handlers: LifecycleHandlers, options: ConsumeOptions = {}): Promise<Subscription> {
  return consume(kafkaConfig, handlers, options);
}

/** Lifecycle events after which a run does nothing more. */
export function isTerminal(event: AnyUpshiftEvent): boolean {
  const name = nameOf(event);
  if (name === 'upgrade.planned') return (event.data as EventData<'upgrade.planned'>).dryRun;
  return name === 'upgrade.completed' || name === 'upgrade.failed' || name === 'upgrade.rolled-back' || name === 'upgrade.rejected';
}

/** Whether a terminal event means success (completed, or a dry run planned). */
export function isSuccess(event: AnyUpshiftEvent): boolean {
  return nameOf(event) === 'upgrade.completed' || (nameOf(event) === 'upgrade.planned' && isTerminal(event));
}

/** A run being followed on the lifecycle topic. */
export interface RunWatch extends Subscription {
  /** Resolves with the run's terminal lifecycle event. */
  readonly terminal: Promise<AnyUpshiftEvent>;
}

/**
 * Follows one run's lifecycle events from the current end of the topic (start it before publishing
 * the request, so nothing is missed); `onEvent` sees each of the run's events in order.
 */
export async function watchRun(kafkaConfig: KafkaConfig, runId: string, options: { readonly onEvent?: (event: AnyUpshiftEvent) => void; readonly fromBeginning?: boolean } = {}): Promise<RunWatch> {
  const kafka = kafkaClient(kafkaConfig);
  const startOffsets = options.fromBeginning ? [] : await withAdmin(kafka, async (admin) => {
    await ensureTopics(admin);
    return topicEnd(admin, LIFECYCLE_TOPIC);
  });
  let finish: (event: AnyUpshiftEvent) => void = () => undefined;
  const terminal = new Promise<AnyUpshiftEvent>((resolve) => (finish = resolve));
  const onAny = (_data: unknown, event: AnyUpshiftEvent): void => {
    if ((event.data as { runId: string }).runId !== runId) return;
    options.onEvent?.(event);
    if (isTerminal(event)) finish(event);
  };
  const handlers = Object.fromEntries(Object.values(catalogue).filter((e) => e.lifecycle).map((e) => [e.name, onAny])) as LifecycleHandlers;
  const subscription = await onLifecycle(kafkaConfig, handlers, { startOffsets, fromBeginning: options.fromBeginning ?? false });
  return { terminal, stop: subscription.stop };
}
