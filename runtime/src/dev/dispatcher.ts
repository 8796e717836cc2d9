/**
 * The local stand-in for Knative KafkaSources and queue-proxies: one consumer group per function over
 * the topics the catalogue routes to it (`routesFor`), each record POSTed in binary mode with at most
 * the function's concurrency in flight per instance (the rest wait, as behind a queue-proxy; a function
 * of several instances gets each delivery at its ready instance with the fewest in flight), retried with backoff
 * (`deliveryPolicy`, shared with the Knative manifests), and dead-lettered (with the reason) on 400 or
 * when retries run out. Records of one Kafka key are delivered one after another, different keys at once
 * (`order: 'key'`, the default; `'partition'` delivers a partition one record at a time, as the manifests'
 * ordered KafkaSource does), and a partition's offset commits only up to its lowest record not yet
 * delivered or dead-lettered, so nothing is lost or skipped (batch-delivery.ts). A record of the
 * dead-letter topic is never dead-lettered again: when it cannot be delivered it is logged and committed
 * (Knative's source of the dead-letter topic has no dead-letter sink either). `duplicate` delivers every record twice (fault tests). A broker restart is ridden out:
 * short retry waits, a short session, and a consumer kafkajs gives up on is replaced (SupervisedConsumer).
 */
import { DEAD_LETTER_TOPIC, deadLetterConsumer, retryWhileRetriable, routesFor } from '@upshift/events';
import type { FunctionName, Topic } from '@upshift/events';
import type { EachBatchPayload, Kafka, KafkaMessage, Producer } from '../transport/kafkajs.ts';
import { Partitioners } from '../transport/kafkajs.ts';
import type { Logger } from '../log.ts';
import { deadLetterRecord } from './dead-letter.ts';
import { deliverWithRetry, httpRequestOf, postOnce } from './deliver.ts';
import type { DeliveryOutcome, DeliveryRequest, ResolvedRetryPolicy } from './deliver.ts';
import { deliveryPolicy, functionLimits } from './delivery-policy.ts';
import type { RetryPolicy } from './delivery-policy.ts';
import { InstanceBalancer } from './balancer.ts';
import type { BalancedInstance } from './balancer.ts';
import { deliverBatch } from './batch-delivery.ts';
import { SupervisedConsumer } from './supervised-consumer.ts';

/** One instance of a function: where it listens and whether it is ready. */
export interface DispatchInstance extends BalancedInstance {
  readonly url: string;
}

/** Where one function listens: one address, or several instances behind it. */
export interface DispatchTarget {
  readonly functionName: FunctionName;
  readonly url: string;
  /** Its instances (`upshift dev --scale`); default one, at `url`, always ready. */
  readonly instances?: readonly DispatchInstance[];
  /** Requests in flight to each instance at once; default its `devConcurrency` (functionLimits: what one dev process stands in for). */
  readonly concurrency?: number;
  /** Catalogue topics to consume (unprefixed); default `routesFor(functionName).topics`. */
  readonly topics?: readonly Topic[];
}

/**
 * In what order a group delivers its records: `key` — records of one Kafka key one after another, records
 * of different keys at once, many per partition (upshift's events are keyed by run or shard id, and
 * Kafka orders nothing across keys); `partition` — one record at a time per partition, as Knative's
 * ordered KafkaSource.
 */
export type DeliveryOrder = 'key' | 'partition';

/** A record of the group's topics, where it came from. */
interface Delivery {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

/** A target with what delivering to it needs. */
interface Route {
  readonly target: DispatchTarget;
  readonly instances: readonly DispatchInstance[];
  /** Requests in flight per instance (the function's concurrency). */
  readonly gate: InstanceBalancer;
  /** Records started and not finished, over the group's partitions: the gate's places and as many waiting or between retries. */
  readonly window: InstanceBalancer;
  readonly policy: ResolvedRetryPolicy;
}

/** How often a batch heartbeats its consumer while deliveries wait for a place or an answer (kafkajs sends at most one per heartbeatInterval). */
const keepAliveMs = 1000;

/** How often, at most, a group commits the offsets resolved so far while a batch is still being delivered. */
const commitEveryMs = 500;

/**
 * Consumer group timings that ride out a broker restart. Waits between retries stay short (at most 2 s)
 * so a consumer is back within seconds of the broker, and many of them keep it from giving up during an
 * outage of half a minute. A member that kafkajs restarts anyway (some calls give up on the first
 * refused connection) joins as a new member, and the group waits for the old one's session to expire
 * before it settles: a short session keeps that wait short. Heartbeats go out every second while a
 * batch is being delivered (keepAliveMs; kafkajs sends at most one per heartbeatInterval).
 */
const groupTimings = {
  sessionTimeout: 10_000,
  heartbeatInterval: 3000,
  retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 20 },
} as const;

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
  /** Default `key`. */
  readonly order?: DeliveryOrder;
}

/** Runs one consumer group per target until stopped. */
export class Dispatcher {
  #options: DispatcherOptions;
  #groups: SupervisedConsumer[] = [];
  #producer: Producer;
  #stopping = new AbortController();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#producer = options.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  }

  /** Connects and subscribes every group; resolves once each group has joined and been assigned. */
  async start(): Promise<void> {
    await this.#producer.connect();
    await Promise.all(this.#options.targets.map((target) => this.#startGroup(this.#routeOf(target))));
  }

  /** The target's gate and policy: the shared delivery policy, the function's own limits, the options' overrides. */
  #routeOf(target: DispatchTarget): Route {
    const limits = functionLimits[target.functionName];
    const overrides = Object.fromEntries(Object.entries(this.#options.retry ?? {}).filter(([, value]) => value !== undefined));
    const policy = { ...deliveryPolicy, requestTimeoutMs: limits.timeoutSeconds * 1000, ...overrides };
    const instances = target.instances?.length ? target.instances : [{ url: target.url, ready: () => true }];
    const gate = new InstanceBalancer(instances, target.concurrency ?? limits.devConcurrency);
    return { target, instances, gate, window: new InstanceBalancer([{ ready: () => true }], 2 * gate.limit), policy };
  }

  /**
   * Starts the target's group (a consumer replaced when kafkajs gives up on it, e.g. after a broker
   * restart: SupervisedConsumer); resolves once it has joined.
   */
  async #startGroup(route: Route): Promise<void> {
    const { target } = route;
    const prefix = this.#options.topicPrefix ?? '';
    const topics = (target.topics ?? consumedTopics(target.functionName)).map((topic) => `${prefix}${topic}`);
    const partitionsConsumedConcurrently = Math.max(12, route.gate.limit);
    const group = new SupervisedConsumer({
      name: target.functionName, log: this.#options.log, kafka: this.#options.kafka,
      config: { groupId: this.#groupIdOf(target), allowAutoTopicCreation: false, maxWaitTimeInMs: 100, ...groupTimings },
      run: async (consumer) => {
        await retryWhileRetriable(() => consumer.subscribe({ topics, fromBeginning: true }));
        await consumer.run({
          partitionsConsumedConcurrently, eachBatchAutoResolve: false, autoCommitInterval: commitEveryMs,
          eachBatch: (payload) => this.#dispatchBatch(route, payload),
        });
      },
    });
    this.#groups.push(group);
    await group.start();
  }

  /** A fetched batch of one partition, in the group's delivery order. */
  async #dispatchBatch(route: Route, payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    const byPartition = this.#options.order === 'partition';
    await deliverBatch(payload, {
      deliver: (message) => this.#dispatch(route, { topic, partition, message }),
      orderKey: (message) => (byPartition ? '' : message.key?.toString('latin1')),
      window: route.window, signal: this.#stopping.signal, heartbeatMs: keepAliveMs,
    });
  }

  /** Delivers one record (twice with `duplicate`); true once it is finished, false when the dispatcher stopped first. */
  async #dispatch(route: Route, payload: Delivery): Promise<boolean> {
    const { target } = route;
    const times = this.#options.duplicate ? 2 : 1;
    for (let i = 0; i < times; i++) {
      let outcome = await this.#deliver(route, payload);
      if (outcome.kind === 'dead-letter' && this.#isDeadLetterTopic(payload.topic)) outcome = { ...outcome, kind: 'dropped' };
      this.#options.onOutcome?.(target, outcome);
      if (outcome.kind === 'aborted') return false;
      if (outcome.kind === 'dropped') {
        this.#options.log.error(
          { function: target.functionName, topic: payload.topic, offset: payload.message.offset, status: outcome.status, attempts: outcome.attempts, reason: outcome.reason },
          'dead letter not delivered; committed without dead-lettering it again',
        );
        return true;
      }
      if (outcome.kind === 'dead-letter') {
        await this.#deadLetter(target, payload, outcome);
        return true;
      }
    }
    return true;
  }

  /** The consumer group of a target's topics (also told to the function, for its handling span). */
  #groupIdOf(target: DispatchTarget): string {
    return `${this.#options.topicPrefix ?? ''}upshift-dispatcher-${target.functionName}`;
  }

  #isDeadLetterTopic(topic: string): boolean {
    return topic === `${this.#options.topicPrefix ?? ''}${DEAD_LETTER_TOPIC}`;
  }

  async #deliver(route: Route, payload: Delivery): Promise<DeliveryOutcome> {
    let request: DeliveryRequest;
    try {
      request = httpRequestOf(payload.message, { consumerGroup: this.#groupIdOf(route.target), partition: payload.partition, offset: payload.message.offset });
    } catch (err) {
      return { kind: 'dead-letter', attempts: 0, throttled: 0, status: 400, reason: `not a CloudEvent: ${(err as Error).message}` };
    }
    return deliverWithRetry(() => this.#attempt(route, request), route.policy, (ms) => this.#pause(ms));
  }

  /** One attempt: waits for a place at an instance (its concurrency), POSTs, frees the place; undefined when stopping. */
  async #attempt(route: Route, request: DeliveryRequest) {
    const signal = this.#stopping.signal;
    const index = await route.gate.enter(signal);
    if (index === undefined) return undefined;
    try {
      return await postOnce(route.instances[index]?.url ?? route.target.url, request, route.policy.requestTimeoutMs, signal);
    } finally {
      route.gate.leave(index);
    }
  }

  async #deadLetter(target: DispatchTarget, payload: Delivery, outcome: DeliveryOutcome & { kind: 'dead-letter' }): Promise<void> {
    const topic = `${this.#options.topicPrefix ?? ''}${DEAD_LETTER_TOPIC}`;
    const record = deadLetterRecord(payload.message, { destination: target.url, status: outcome.status, reason: outcome.reason });
    await this.#producer.send({ topic, acks: -1, messages: [record] });
    this.#options.log.warn(
      { function: target.functionName, topic: payload.topic, offset: payload.message.offset, status: outcome.status, attempts: outcome.attempts, throttled: outcome.throttled },
      'event dead-lettered',
    );
  }

  /** Sleeps `ms` (the batch heartbeats meanwhile); false when the dispatcher is stopping. */
  async #pause(ms: number): Promise<boolean> {
    const signal = this.#stopping.signal;
    const until = Date.now() + ms;
    while (!signal.aborted && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())));
    return !signal.aborted;
  }

  /** Stops consuming (in-flight retries give up without committing) and disconnects. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.allSettled(this.#groups.map((group) => group.stop()));
    await this.#producer.disconnect().catch(() => undefined);
  }
}

/** The topics a function's group consumes: its catalogue routes, and the dead-letter topic for the dead-letter consumer. */
export function consumedTopics(functionName: FunctionName): readonly Topic[] {
  const routed = routesFor(functionName).topics;
  return functionName === deadLetterConsumer ? [...routed, DEAD_LETTER_TOPIC] : routed;
}
