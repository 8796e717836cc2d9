/**
 * Typed consuming for users and tools: `consume` routes decoded events to handlers by short name,
 * `onLifecycle` does it for the public lifecycle topic, `watchRun` follows one run to its end.
 */
import { retryWhileRetriable } from './retry.ts';
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { catalogue, LIFECYCLE_TOPIC, type EventData, type EventName, type LifecycleEventName } from '../catalogue.ts';
import { decodeKafka, type IncomingKafkaMessage } from '../bindings/kafka.ts';
import { ContractViolation } from '../errors.ts';
import { nameOf, type AnyUpshiftEvent, type DeepReadonly, type UpshiftEvent } from '../event.ts';
import { kafkaClient, withAdmin } from './client.ts';
import type { KafkaConnection } from './connection.ts';
import { createMissingTopics, endOffsets, type PartitionOffset } from './topics.ts';

/** A handler of one event type: typed data first, the whole event second. */
export type EventHandler<N extends EventName> = (data: DeepReadonly<EventData<N>>, event: UpshiftEvent<N>) => void | Promise<void>;
/** Handlers keyed by short name; a handler that throws has the message redelivered (at-least-once). */
export type Handlers = { readonly [N in EventName]?: EventHandler<N> };
/** Handlers of public lifecycle events only. */
export type LifecycleHandlers = { readonly [N in LifecycleEventName]?: EventHandler<N> };

/** A message as it was consumed (raw bytes), e.g. one that broke the contract; `decodeKafka` accepts it. */
export interface ConsumedRecord extends IncomingKafkaMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>>;
}

/** Options of consume/onLifecycle. */
export interface ConsumeOptions {
  /** Consumer group; defaults to a fresh `upshift-<uuid>` (each call sees every message from its start position). */
  readonly groupId?: string;
  /** Read from the earliest retained message for a new group (default: only new messages). */
  readonly fromBeginning?: boolean;
  /** Start positions per partition (all subscribed topics), e.g. from `topicEnd`. */
  readonly startOffsets?: readonly PartitionOffset[];
  /** Called with messages that break the contract; they are skipped (default: ignored). */
  readonly onInvalid?: (error: ContractViolation, record: ConsumedRecord) => void | Promise<void>;
  /** Prepended to the topic names, as the functions' UPSHIFT_TOPIC_PREFIX (an isolated deployment or test). */
  readonly topicPrefix?: string;
  /** How long the broker holds a fetch that finds nothing new (ms; default 5,000): shorter lets `stop` return sooner. */
  readonly maxWaitMs?: number;
}

/** A running typed consumer. */
export interface Subscription {
  /** Disconnects the consumer. */
  readonly stop: () => Promise<void>;
}

async function dispatch(handlers: Handlers, record: ConsumedRecord, options: ConsumeOptions): Promise<void> {
  let event: AnyUpshiftEvent;
  try {
    event = decodeKafka(record);
  } catch (error) {
    if (!(error instanceof ContractViolation)) throw error;
    await options.onInvalid?.(error, record);
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
export async function consume(connection: KafkaConnection, handlers: Handlers, options: ConsumeOptions = {}): Promise<Subscription> {
  const names = Object.keys(handlers) as EventName[];
  const topics = [...new Set(names.map((n) => `${options.topicPrefix ?? ''}${catalogue[n].topic}`))];
  if (topics.length === 0) throw new TypeError('consume: no handlers given');
  const kafka = kafkaClient(connection);
  if (!options.topicPrefix) await withAdmin(kafka, (admin) => createMissingTopics(admin));
  const consumer = kafka.consumer({
    groupId: options.groupId ?? `upshift-${randomUUID()}`, allowAutoTopicCreation: false,
    ...(options.maxWaitMs === undefined ? {} : { maxWaitTimeInMs: options.maxWaitMs }),
  });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await subscribe(consumer, topics, options);
  await consumer.run({
    eachMessage: ({ topic, partition, message }) => dispatch(handlers, {
      topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {},
    }, options),
  });
  for (const topic of topics) for (const start of options.startOffsets ?? []) consumer.seek({ topic, ...start });
  await joined;
  return { stop: () => consumer.disconnect() };
}

/** Consumes the public lifecycle topic with typed handlers (`'upgrade.completed': (data) => …`). */
export function onLifecycle(connection: KafkaConnection, handlers: LifecycleHandlers, options: ConsumeOptions = {}): Promise<Subscription> {
  return consume(connection, handlers, options);
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

/** Options of watchRun: where to read (`fromBeginning`, a `topicPrefix`), as which group, and who else sees the run's events. */
export interface WatchRunOptions extends Pick<ConsumeOptions, 'fromBeginning' | 'groupId' | 'topicPrefix' | 'maxWaitMs'> {
  /** Sees each of the run's lifecycle events in order. */
  readonly onEvent?: (event: AnyUpshiftEvent) => void;
}

/**
 * Follows one run's lifecycle events from the current end of the topic (start it before publishing
 * the request, so nothing is missed); `onEvent` sees each of the run's events in order.
 */
export async function watchRun(connection: KafkaConnection, runId: string, options: WatchRunOptions = {}): Promise<RunWatch> {
  const prefix = options.topicPrefix ?? '';
  const startOffsets = options.fromBeginning ? [] : await withAdmin(kafkaClient(connection), async (admin) => {
    if (!prefix) await createMissingTopics(admin);
    return endOffsets(admin, `${prefix}${LIFECYCLE_TOPIC}`);
  });
  let finish: (event: AnyUpshiftEvent) => void = () => undefined;
  const terminal = new Promise<AnyUpshiftEvent>((resolve) => (finish = resolve));
  const onAny = (_data: unknown, event: AnyUpshiftEvent): void => {
    if ((event.data as { runId: string }).runId !== runId) return;
    options.onEvent?.(event);
    if (isTerminal(event)) finish(event);
  };
  const handlers = Object.fromEntries(Object.values(catalogue).filter((e) => e.lifecycle).map((e) => [e.name, onAny])) as LifecycleHandlers;
  const { onEvent: _onEvent, ...consumeOptions } = options;
  const subscription = await onLifecycle(connection, handlers, { ...consumeOptions, startOffsets });
  return { terminal, stop: subscription.stop };
}
