/**
 * The exactly-once path of one delivery: decode (400 on contract violation), open a CONSUMER span that
 * continues the event's trace, let the handler look (no transaction open), then in ONE short transaction
 * dedupe in the inbox, run the handler's decision and put what it emitted in the outbox. A redelivery
 * replays the first outputs.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { createEvent, decode, derivedId, entryForType, routesFor } from '@upshift/events';
import type { AnyUpshiftEvent, EventData, EventName, FunctionName, UpshiftEvent } from '@upshift/events';
import { UpshiftError } from '../errors.ts';
import type { HostConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { beginAndClaimInbox, claimInboxAlone, seenBefore } from '../store/inbox.ts';
import type { InboxClaim, InboxKey } from '../store/inbox.ts';
import { outputsBeforeCommit, redriveEntry, replayOutbox, storeOutputs } from '../store/outbox.ts';
import { redrivesOf } from '../store/run-state/dead-letters.ts';
import { holdWhilePaused } from '../store/run-state/controls.ts';
import type { DeadLetter } from '../lifecycle/dead-letters.ts';
import { checkedEvent } from './checked-events.ts';
import { deadLetterOf } from './dead-letter-input.ts';
import type { OutboxEntry } from '../store/outbox.ts';
import { withTransaction, withTransactionFinishing } from '../store/pool.ts';
import type { Finished, TxClient } from '../store/pool.ts';
import { deliveryOrigin, handlingAttributes } from '../telemetry/messaging.ts';
import { contextOfEvent, traceAttributesOf } from '../telemetry/propagation.ts';
import { RUN_ID_ATTRIBUTE, withRunId } from '../telemetry/run-context.ts';
import { wrapError } from '../wrap-error.ts';
import type { Decision, FunctionDefinition, HandlerContext } from './function.ts';
import { countOutcomes } from './domain-metrics.ts';
import type { FunctionMetrics } from './metrics.ts';
import type { Resources } from './resources.ts';

/** The HTTP answer for a delivery (faas-js-runtime response object shape). */
export interface HandleResult {
  readonly statusCode: number;
  readonly body: Readonly<Record<string, unknown>>;
}

const tracer = trace.getTracer('@upshift/runtime');

/** Handles one delivery end to end; never throws (errors become their delivery status). */
export async function handleEvent<C extends HostConfig>(
  definition: FunctionDefinition<C>,
  resources: Resources<C> | undefined,
  metrics: FunctionMetrics,
  raw: unknown,
  delivery: unknown = undefined,
): Promise<HandleResult> {
  if (!resources) return failure(new UpshiftError('UNAVAILABLE', `function ${definition.name} is not initialised`));
  let event: AnyUpshiftEvent;
  const letter = deadLetterOf(delivery, raw);
  try {
    event = letter ? decodeDeadLetter(definition, raw) : decodeFor(definition.name, raw);
  } catch (err) {
    const violation = new UpshiftError('CONTRACT_VIOLATION', (err as Error).message, { cause: err });
    resources.log.warn({ error: violation.toJSON() }, 'contract violation: event refused');
    metrics.handled.inc({ type: typeOf(raw), outcome: violation.code });
    return failure(violation);
  }
  const topic = `${resources.config.UPSHIFT_TOPIC_PREFIX}${entryForType(event.type)?.topic ?? 'unknown'}`;
  const runId = runIdOf(event);
  const httpSpan = trace.getSpan(context.active());
  if (runId) httpSpan?.setAttribute(RUN_ID_ATTRIBUTE, runId);
  const options = {
    kind: SpanKind.CONSUMER,
    attributes: handlingAttributes(event, topic, deliveryOrigin(delivery, definition.name, letter !== undefined), runId),
    links: httpSpan ? [{ context: httpSpan.spanContext() }] : [],
  };
  // Every span started while handling (store, Kubernetes, Kafka calls) is tagged with the run (RunSpanProcessor).
  return tracer.startActiveSpan(`process ${topic}`, options, withRunId(contextOfEvent(event), runId), (span) =>
    runTraced(span, definition, resources, metrics, event, letter && { ...letter, type: event.type, id: event.id }),
  );
}

async function runTraced<C extends HostConfig>(
  span: Span, definition: FunctionDefinition<C>, resources: Resources<C>, metrics: FunctionMetrics, event: AnyUpshiftEvent, letter: DeadLetter | undefined,
): Promise<HandleResult> {
  const log = resources.log.child({ eventId: event.id, eventType: event.type, runId: runIdOf(event), subject: event.subject });
  const timer = metrics.handlingSeconds.startTimer({ type: event.type });
  try {
    if (letter) span.setAttributes({ 'upshift.dead_letter.status': letter.status, 'upshift.dead_letter.destination': letter.destination });
    const outcome = await handleOnce(definition, resources, event, log, letter, metrics);
    if (letter && !outcome.duplicate) metrics.domain.deadLetters.inc({ type: event.type, status: String(letter.status) });
    metrics.handled.inc({ type: event.type, outcome: outcome.duplicate ? 'duplicate' : 'ok' });
    span.setAttribute('upshift.duplicate', outcome.duplicate);
    log.debug({ outputs: outcome.outputs.length, duplicate: outcome.duplicate }, 'event handled');
    return { statusCode: 200, body: { outcome: outcome.duplicate ? 'duplicate' : 'handled', outputs: outcome.outputs } };
  } catch (err) {
    const error = wrapError(err, { eventId: event.id });
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
    metrics.handled.inc({ type: event.type, outcome: error.code });
    log[error.status >= 500 ? 'error' : 'warn']({ error: error.toJSON() }, 'event handling failed');
    return failure(error);
  } finally {
    timer();
    span.end();
  }
}

interface Outcome {
  readonly duplicate: boolean;
  readonly outputs: readonly string[];
}

/**
 * A delivery seen before is replayed without running the handler. Otherwise the handler looks and
 * decides; its decision commits in one transaction with the inbox claim and the outbox (the outputs
 * sent with the COMMIT). A handler that decides nothing still claims the inbox, in one statement, so a
 * redelivery is recognised.
 */
async function handleOnce<C extends HostConfig>(
  definition: FunctionDefinition<C>, resources: Resources<C>, event: AnyUpshiftEvent, log: Logger, letter?: DeadLetter, metrics?: FunctionMetrics,
): Promise<Outcome> {
  const key: InboxKey = { consumer: definition.name, source: event.source, id: letter ? await deadLetterKey(resources, event) : event.id };
  const source = `/upshift/${definition.name}`;
  let outcome: Outcome | undefined;
  let deciding: Promise<unknown> | undefined;
  const decide = <T>(decision: (d: Decision) => Promise<T>): Promise<T | undefined> => {
    if (deciding) return Promise.reject(new UpshiftError('INTERNAL', `${definition.name} decided twice on event ${event.id}`));
    const decided = decideOnce(decision);
    deciding = decided;
    return decided;
  };
  const decideOnce = async <T>(decision: (d: Decision) => Promise<T>): Promise<T | undefined> => {
    const begin = (client: TxClient): Promise<InboxClaim> => beginAndClaimInbox(client, key, event.type);
    type Decided = { outcome: Outcome; value: T | undefined; emitted: readonly OutboxEntry[] };
    const decided = await withTransactionFinishing(resources.pool, begin, async (tx, claim): Promise<Finished<Decided>> => {
      if (!claim.first) {
        await replayOutbox(tx, source, claim.outputs);
        return { value: { outcome: { duplicate: true, outputs: claim.outputs }, value: undefined, emitted: [] } };
      }
      const emitted: OutboxEntry[] = [];
      const value = await decision({ tx, emit: emitterFor(definition, resources, letter ? { ...event, id: key.id } as AnyUpshiftEvent : event, emitted), redrive: (again) => redriveEntry(tx, outboxEntryOf(resources, again)) });
      const stored = await holdWhilePaused(tx, emitted); // a paused run's forward events wait for its resume
      return {
        value: { outcome: { duplicate: false, outputs: emitted.map((entry) => entry.id) }, value, emitted },
        beforeCommit: await outputsBeforeCommit(tx, key, stored, resources.relay.id), // small outputs travel with the COMMIT
      };
    });
    if (metrics) countOutcomes(metrics.domain, decided.emitted); // committed: counted once
    outcome = decided.outcome;
    return decided.value;
  };
  if (await seenBefore(resources.pool, key)) {
    await decide(async () => undefined);
  } else {
    const ctx: HandlerContext<C> = {
      log, config: resources.config, store: resources.pool, decide,
      emitIn: async (tx, name, data, options) => {
        const side: OutboxEntry[] = [];
        const produced = emitterFor(definition, resources, event, side)(name, data, options);
        await storeOutputs(tx, { ...key, id: `side:${produced.id}` }, side, resources.relay.id); // its NOTIFY wakes this relay at commit
        return produced;
      },
    };
    try {
      if (letter) await definition.deadLetters?.(ctx, event, letter);
      else await definition.handle(ctx, event);
    } catch (err) {
      await deciding?.catch(() => undefined); // never answer while a decision is still in flight
      throw err;
    }
    // A decision the handler started but did not wait for still counts (and its failure fails the delivery).
    if (deciding) await deciding;
    else if (await claimInboxAlone(resources.pool, key, event.type)) outcome = { duplicate: false, outputs: [] };
    else await decide(async () => undefined); // claimed meanwhile by another delivery: replay what it decided
  }
  const done = outcome ?? { duplicate: false, outputs: [] };
  if (resources.config.UPSHIFT_CRASH_POINT === 'after-commit-before-publish' && !done.duplicate) {
    process.exit(86); // fault injection: committed, not yet published
  }
  if (done.outputs.length > 0) resources.relay.wake(); // before the NOTIFY, which names this relay, arrives
  return done;
}

/** A decision no event caused (see FunctionDeps.decide): its outputs go to the outbox in the same transaction. */
export async function decideWithoutEvent<C extends HostConfig, T>(
  definition: FunctionDefinition<C>, resources: Resources<C>, cause: string, decision: (d: Decision) => Promise<T>, metrics?: FunctionMetrics,
): Promise<T> {
  const source = `/upshift/${definition.name}`;
  const input = { source, id: cause } as AnyUpshiftEvent;
  const emitted: OutboxEntry[] = [];
  const value = await withTransaction(resources.pool, async (tx) => {
    emitted.length = 0;
    const result = await decision({ tx, emit: emitterFor(definition, resources, input, emitted), redrive: (again) => redriveEntry(tx, outboxEntryOf(resources, again)) });
    await storeOutputs(tx, { consumer: definition.name, source, id: cause }, await holdWhilePaused(tx, emitted), resources.relay.id);
    return result;
  });
  if (metrics) countOutcomes(metrics.domain, emitted);
  if (emitted.length > 0) resources.relay.wake();
  return value;
}

function emitterFor<C extends HostConfig>(
  definition: FunctionDefinition<C>, resources: Resources<C>, input: AnyUpshiftEvent, emitted: OutboxEntry[],
): Decision['emit'] {
  return <N extends EventName>(name: N, data: EventData<N>, options: { key?: string } = {}): UpshiftEvent<N> => {
    const key = options.key ?? String(emitted.length);
    const event = createEvent(name, data, {
      producer: definition.name,
      id: derivedId(input.source, input.id, name, key),
      ...traceAttributesOf(),
    });
    emitted.push(outboxEntryOf(resources, event as unknown as AnyUpshiftEvent));
    return event;
  };
}

/** The outbox row of an event: its structured JSON and the (prefixed) topic the catalogue gives its type. */
function outboxEntryOf(resources: Resources, event: AnyUpshiftEvent): OutboxEntry {
  const topic = entryForType(event.type)?.topic ?? 'unknown';
  return {
    source: event.source, id: event.id, type: event.type, topic: `${resources.config.UPSHIFT_TOPIC_PREFIX}${topic}`,
    partitionKey: event.partitionkey, event: event as unknown as Readonly<Record<string, unknown>>,
  };
}

/**
 * The inbox id of a dead letter: the event's id with how many times it was redriven, so the same event
 * dead-lettered again after a redrive is a new delivery to decide on. (A dead letter delivered twice
 * before it was decided counts once; after, it may count as one more redrive, still bounded.)
 */
async function deadLetterKey(resources: Resources, event: AnyUpshiftEvent): Promise<string> {
  const runId = runIdOf(event);
  return `dead-letter:${runId ? await redrivesOf(resources.pool, runId, event.id) : 0}:${event.id}`;
}

/** Decodes a dead letter for the function that consumes them (any catalogue type may arrive). */
function decodeDeadLetter(definition: FunctionDefinition, raw: unknown): AnyUpshiftEvent {
  if (!definition.deadLetters) throw new Error(`${definition.name} does not consume dead letters`);
  return checkedEvent(raw) ?? decode(raw);
}

/** Decodes and checks the catalogue routes this type to `functionName` (else it is misdelivered). */
function decodeFor(functionName: FunctionName, raw: unknown): AnyUpshiftEvent {
  const event = checkedEvent(raw) ?? decode(raw); // the host's own decoding checked it already
  if (!routesFor(functionName).types.includes(event.type)) {
    throw new Error(`${event.type} is not consumed by ${functionName} (catalogue routes)`);
  }
  return event;
}

function failure(error: UpshiftError): HandleResult {
  return { statusCode: error.status, body: { error: error.toJSON() } };
}

function runIdOf(event: AnyUpshiftEvent): string | undefined {
  const data = event.data as { readonly runId?: unknown };
  return typeof data.runId === 'string' ? data.runId : undefined;
}

function typeOf(raw: unknown): string {
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? type.slice(0, 100) : 'unknown';
}

