/**
 * One fetched batch of a partition delivered with many records in flight: each record starts as soon as
 * a place is free (`window`) unless an earlier record of its order key is still in flight, in which case
 * it follows that one; the partition's offset is resolved, and committed, only up to the lowest record
 * not finished (`CommitFrontier`). A record left unfinished — the dispatcher stopping, the partition
 * taken away, a heartbeat or a commit failing — stops the batch: records not started yet and those queued
 * behind it are not delivered, and all of them come again from the committed offset (at least once,
 * never skipped, a key's records still in order). The batch returns once every record it started has
 * ended, so a partition's next batch never overtakes this one.
 */
import type { EachBatchPayload, KafkaMessage } from '../transport/kafkajs.ts';
import type { InstanceBalancer } from './balancer.ts';
import { CommitFrontier, KeyChains } from './key-order.ts';

/** How a batch is delivered. */
export interface BatchDelivery {
  /** Delivers one record: true once it is finished (delivered, dead-lettered or dropped), false when it was abandoned. */
  readonly deliver: (message: KafkaMessage) => Promise<boolean>;
  /** The key records are ordered by: undefined for none, one value for all to deliver a partition one record at a time. */
  readonly orderKey: (message: KafkaMessage) => string | undefined;
  /** Places for record chains in flight (shared by the group's partitions). */
  readonly window: InstanceBalancer;
  /** Aborts when the dispatcher stops: nothing new starts. */
  readonly signal: AbortSignal;
  /** How often to heartbeat the group while the batch runs (a delivery may outlast the session timeout). */
  readonly heartbeatMs: number;
}

/** Why a batch stopped early, if it did. */
interface BatchState {
  halted: boolean;
  failure: unknown;
}

/**
 * Delivers `payload`'s batch (kafkajs eachBatch with `eachBatchAutoResolve: false`). Resolves when every
 * started record has ended; rejects with the first delivery error after that (kafkajs then commits what
 * was resolved and restarts the consumer).
 */
export async function deliverBatch(payload: EachBatchPayload, how: BatchDelivery): Promise<void> {
  const { batch } = payload;
  const state: BatchState = { halted: false, failure: undefined };
  const frontier = new CommitFrontier(batch.messages.map((message) => message.offset));
  const chains = new KeyChains<KafkaMessage>();
  const halt = (): void => { state.halted = true; };
  // Heartbeats, and commits the resolved offsets once due (kafkajs autoCommitInterval) though no record finishes meanwhile.
  const keepAlive = setInterval(() => { payload.heartbeat().then(() => payload.commitOffsetsIfNecessary()).catch(halt); }, how.heartbeatMs);
  const running: Array<Promise<void>> = [];
  try {
    for (const message of batch.messages) {
      if (!mayStart(payload, how, state)) break;
      const key = how.orderKey(message);
      if (chains.join(key, message)) continue;
      const place = await how.window.enter(how.signal);
      if (place === undefined) break;
      running.push(runChain(payload, how, { first: message, key, chains, frontier, state }).finally(() => how.window.leave(place)));
    }
    await Promise.all(running);
  } finally {
    clearInterval(keepAlive);
  }
  if (state.failure !== undefined) throw state.failure;
}

/** Whether a record may start: the dispatcher runs, the partition is still ours, and nothing stopped the batch. */
function mayStart(payload: EachBatchPayload, how: BatchDelivery, state: BatchState): boolean {
  return !state.halted && !how.signal.aborted && payload.isRunning() && !payload.isStale();
}

/** One key's records of the batch, one after another, resolving each finished prefix of the partition. */
async function runChain(
  payload: EachBatchPayload,
  how: BatchDelivery,
  chain: { first: KafkaMessage; key: string | undefined; chains: KeyChains<KafkaMessage>; frontier: CommitFrontier; state: BatchState },
): Promise<void> {
  const { key, chains, frontier, state } = chain;
  for (let message: KafkaMessage | undefined = chain.first; message; message = chains.next(key)) {
    if (!mayStart(payload, how, state)) return;
    let finished: boolean;
    try {
      finished = await how.deliver(message);
    } catch (err) {
      state.failure ??= err;
      finished = false;
    }
    if (!finished) {
      state.halted = true;
      return;
    }
    const upTo = frontier.finish(message.offset);
    if (upTo === undefined) continue;
    payload.resolveOffset(upTo);
    // A commit that fails (a rebalance, the broker away) stops the batch; kafkajs commits again after it.
    await payload.commitOffsetsIfNecessary().catch(() => { state.halted = true; });
  }
}
