/**
 * The local stand-in for Knative KafkaSources: one consumer group per function over the topics the
 * catalogue routes to it (`routesFor`), each record POSTed in binary mode with retry and backoff, and
 * dead-lettered (with the reason) on 400 or when retries run out. Offsets commit only after a record
 * is delivered or dead-lettered, so nothing is lost. `duplicate` delivers every record twice (fault tests).
 */
import { retryWhileRetriable } from '@upshift/events';
import { DEAD_LETTER_TOPIC, routesFor } from '@upshift/events';
import type { FunctionName } from '@upshift/events';
import type { Consumer, EachMessagePayload, Kafka, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { Logger } from '../log.ts';
import { deadLetterRecord } from './dead-letter.ts';
import { defaultRetryPolicy, deliverWithRetry, httpRequestOf } from './deliver.ts';
import type { DeliveryOutcome, RetryPolicy } from './deliver.ts';

/** Where one function listens. */
export interface DispatchTarget {
  readonly functionName: FunctionName;
  readonly url: string;
}

/** Dispatcher options. */
export interface DispatcherOptions {
  readonly kafka: Kafka;
  readonly targets: readonly DispatchTarget[];
  readonly log: Logger;
  /** Prefix of every topic and group id (test isolation). */
  readonly topicPrefix?: string;
  readonly retry?: Partial<RetryPolicy>;
  /** Deliver every record twice (at-least-once fault test). */
  readonly duplicate?: boolean;
  /** Called after each record's delivery ends (tests, metrics). */
  readonly onOutcome?: (target: DispatchTarget, outcome: DeliveryOutcome) => void;
}

/** Runs one consumer group per target until stopped. */
export class Dispatcher {
  #options: DispatcherOptions;
  #policy: RetryPolicy;
  #consumers: Consumer[] = [];
  #producer: Producer;
  #stopping = new AbortController();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#policy = { ...defaultRetryPolicy, ...options.retry };
    this.#producer = options.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  }

  /** Connects and subscribes every group; resolves once each group has joined and been assigned. */
  async start(): Promise<void> {
    await this.#producer.connect();
    await Promise.all(this.#options.targets.map((target) => this.#startGroup(target)));
  }

  async #startGroup(target: DispatchTarget): Promise<void> {
    const prefix = this.#options.topicPrefix ?? '';
    const consumer = this.#options.kafka.consumer({
      groupId: `${prefix}upshift-dispatcher-${target.functionName}`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
    });
    this.#consumers.push(consumer);
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    const topics = routesFor(target.functionName).topics.map((topic) => `${prefix}${topic}`);
    await retryWhileRetriable(() => consumer.subscribe({ topics, fromBeginning: true }));
    await consumer.run({ partitionsConsumedConcurrently: 12, eachMessage: (payload) => this.#dispatch(target, payload) });
    await joined;
  }

  async #dispatch(target: DispatchTarget, payload: EachMessagePayload): Promise<void> {
    const times = this.#options.duplicate ? 2 : 1;
    for (let i = 0; i < times; i++) {
      const outcome = await this.#deliver(target, payload);
      this.#options.onOutcome?.(target, outcome);
      if (outcome.kind === 'aborted') throw new Error('dispatcher stopping; record left for redelivery');
      if (outcome.kind === 'dead-letter') {
        await this.#deadLetter(target, payload, outcome);
        return;
      }
    }
  }

  async #deliver(target: DispatchTarget, payload: EachMessagePayload): Promise<DeliveryOutcome> {
    let request: ReturnType<typeof httpRequestOf>;
    try {
      request = httpRequestOf(payload.message);
    } catch (err) {
      return { kind: 'dead-letter', attempts: 0, status: 400, reason: `not a CloudEvent: ${(err as Error).message}` };
    }
    return deliverWithRetry(target.url, request, this.#policy, (ms) => this.#pause(ms, payload));
  }

  async #deadLetter(target: DispatchTarget, payload: EachMessagePayload, outcome: DeliveryOutcome & { kind: 'dead-letter' }): Promise<void> {
    const topic = `${this.#options.topicPrefix ?? ''}${DEAD_LETTER_TOPIC}`;
    const record = deadLetterRecord(payload.message, { destination: target.url, status: outcome.status, reason: outcome.reason });
    await this.#producer.send({ topic, acks: -1, messages: [record] });
    this.#options.log.warn(
      { function: target.functionName, topic: payload.topic, offset: payload.message.offset, status: outcome.status, attempts: outcome.attempts },
      'event dead-lettered',
    );
  }

  /** Sleeps `ms` while keeping the group membership alive; false when the dispatcher is stopping. */
  async #pause(ms: number, payload: EachMessagePayload): Promise<boolean> {
    const signal = this.#stopping.signal;
    const until = Date.now() + ms;
    while (!signal.aborted && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())));
      await payload.heartbeat().catch(() => undefined);
    }
    return !signal.aborted;
  }

  /** Stops consuming (in-flight retries give up without committing) and disconnects. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.allSettled(this.#consumers.map((consumer) => consumer.disconnect()));
    await this.#producer.disconnect().catch(() => undefined);
  }
}
