/**
 * Publishing the demo's `upgrade.requested` to its prefixed plan topic, as `upshift request` does to the
 * unprefixed one: the same event (validated policy, id derived from the run id, a new W3C trace).
 */
import { randomBytes } from 'node:crypto';
import { createEvent, derivedId, encodeKafka, parsePolicy, PolicyInvalid, uuidv7, type UpgradePolicy } from '@upshift/events';
import { createKafka } from '@upshift/runtime';

/** The run id and trace id of a published request. */
export interface PublishedRun {
  readonly runId: string;
  readonly traceId: string;
}

/** Publishes `upgrade.requested` for `policy` to `<prefix>upshift.plan`; the trace id roots the run's trace. */
export async function publishRequest(brokers: readonly string[], prefix: string, policy: UpgradePolicy, requestedBy: string): Promise<PublishedRun> {
  const parsed = parsePolicy(policy);
  if (!parsed.ok) throw new PolicyInvalid(parsed.problems);
  const runId = uuidv7();
  const traceId = randomBytes(16).toString('hex');
  const event = createEvent('upgrade.requested', { runId, policy: parsed.policy, requestedBy }, {
    producer: 'cli', id: derivedId('upgrade.requested', runId), traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
  });
  const record = encodeKafka(event);
  const producer = createKafka(brokers, 'upshift-demo').producer();
  await producer.connect();
  try {
    await producer.send({ topic: `${prefix}${record.topic}`, acks: -1, messages: [{ key: record.key, value: record.value, headers: { ...record.headers } }] });
  } finally {
    await producer.disconnect();
  }
  return { runId, traceId };
}
