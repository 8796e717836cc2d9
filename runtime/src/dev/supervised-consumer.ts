/**
 * A kafkajs consumer that keeps consuming until it is stopped, and stops for good when it is.
 * - kafkajs restarts a crashed consumer on its own only when the cause is retriable; after a broker
 *   outage a rejoin or a commit can fail with a group error the protocol calls non-retriable
 *   (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID), and such a consumer stays stopped
 *   (kafkajs#1443): its function would never be fed again. Here a consumer kafkajs gave up on is
 *   replaced by a new one in the same group, which goes on from the committed offsets; while the broker
 *   cannot be reached the replacement is tried again with backoff.
 * - A consumer disconnected while kafkajs restarts it can come back to life afterwards (the restart's
 *   join was in flight) and go on fetching, or retrying against a broker that is gone, for ever. Once
 *   stopped, kafkajs is told not to restart (`restartOnFailure`) and a consumer that joins is
 *   disconnected again.
 */
import type { Consumer, ConsumerConfig, Kafka } from '../transport/kafkajs.ts';
import type { Logger } from '../log.ts';

/** What a supervised consumer is made of. */
export interface SupervisedConsumerOptions {
  readonly kafka: Kafka;
  /** The consumer's config (its `retry.restartOnFailure` is the supervisor's). */
  readonly config: ConsumerConfig;
  /** Subscribes a connected consumer and runs it (resolves once it runs, as `consumer.run` does). */
  readonly run: (consumer: Consumer) => Promise<void>;
  readonly log: Logger;
  /** Named in the logs, e.g. the function the group feeds. */
  readonly name: string;
  /** The wait before the n-th replacement in a row (1-based); default 500 ms doubling up to 10 s. */
  readonly backoffMs?: (attempt: number) => number;
}

/** One consumer group member, replaced when kafkajs gives up on it. */
export class SupervisedConsumer {
  #options: SupervisedConsumerOptions;
  #current: Consumer | undefined;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** How many times a consumer was replaced. */
  replacements = 0;

  constructor(options: SupervisedConsumerOptions) {
    this.#options = options;
  }

  /** Connects, subscribes and runs the first consumer; resolves once it has joined its group. */
  async start(): Promise<void> {
    const consumer = this.#create();
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await this.#options.run(consumer);
    await joined;
  }

  /** Stops replacing and restarting, and disconnects the current consumer. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#current?.disconnect();
  }

  #create(): Consumer {
    const { config } = this.#options;
    const restartOnFailure = async () => !this.#stopped;
    const consumer = this.#options.kafka.consumer({ ...config, retry: { ...config.retry, restartOnFailure } });
    this.#current = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => this.#crashed(consumer, payload.error, payload.restart));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.#failures = 0;
      if (this.#stopped) consumer.disconnect().catch(() => undefined);
    });
    return consumer;
  }

  #crashed(consumer: Consumer, err: Error, restartedByKafkajs: boolean): void {
    if (this.#stopped || consumer !== this.#current) return;
    if (restartedByKafkajs) {
      this.#options.log.warn({ consumer: this.#options.name, err }, 'consumer crashed; kafkajs restarts it');
      return;
    }
    this.#options.log.warn({ consumer: this.#options.name, err }, 'consumer crashed and kafkajs gave up on it; starting a new one');
    this.#replaceLater(consumer);
  }

  #replaceLater(failed: Consumer): void {
    if (this.#stopped || this.#timer) return;
    this.#failures += 1;
    const delay = (this.#options.backoffMs ?? defaultBackoffMs)(this.#failures);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#replace(failed).catch((err: unknown) => this.#options.log.error({ consumer: this.#options.name, err }, 'consumer not replaced'));
    }, delay);
  }

  async #replace(failed: Consumer): Promise<void> {
    await failed.disconnect().catch(() => undefined);
    if (this.#stopped) return;
    const next = this.#create();
    try {
      await next.connect();
      await this.#options.run(next);
      this.replacements += 1;
      this.#options.log.info({ consumer: this.#options.name, replacements: this.replacements }, 'consumer replaced');
    } catch (err) {
      this.#options.log.warn({ consumer: this.#options.name, err, attempt: this.#failures }, 'could not start a new consumer; trying again');
      this.#replaceLater(next);
    }
    if (this.#stopped) await next.disconnect().catch(() => undefined);
  }
}

function defaultBackoffMs(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** Math.min(attempt - 1, 5));
}
