/**
 * The bridge to the cloudevents SDK: every wire format goes through its bindings (never
 * hand-written `ce_` headers); this file only converts between SDK CloudEvents and UpshiftEvents.
 */
import { CloudEvent, ValidationError } from 'cloudevents';
import { entries } from '../catalogue.ts';
import { ContractViolation } from '../errors.ts';
import { toUpshiftEvent, type AnyUpshiftEvent } from '../event.ts';

/** Wire content mode (CloudEvents protocol bindings §3.1 binary, §3.2 structured). */
export type ContentMode = 'binary' | 'structured';

/** Re-validates an event and turns it into an SDK CloudEvent (strict: the SDK checks the spec too). */
export function toSdkEvent(event: AnyUpshiftEvent): CloudEvent<unknown> {
  const checked = toUpshiftEvent(event);
  try {
    return new CloudEvent<unknown>({ ...checked, data: checked.data }, true);
  } catch (error) {
    throw violationFrom(checked.type, error);
  }
}

/** Turns what an SDK deserializer returned into a checked UpshiftEvent. */
export function fromSdkEvent(decoded: unknown): AnyUpshiftEvent {
  if (Array.isArray(decoded)) throw new ContractViolation(undefined, [{ path: '(root)', message: 'batched CloudEvents are not accepted' }]);
  const plain: Record<string, unknown> = { ...(decoded as Record<string, unknown>) };
  if (typeof plain.data === 'string' && typeof plain.datacontenttype === 'string' && plain.datacontenttype.startsWith('application/json')) {
    plain.data = parseJson(plain.data, typeof plain.type === 'string' ? plain.type : undefined);
  }
  return toUpshiftEvent(plain);
}

/** Runs an SDK call, turning its errors (ValidationError, bad JSON, bad dates) into ContractViolation. */
export function guardSdk<T>(type: string | undefined, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw violationFrom(type, error);
  }
}

function parseJson(text: string, type: string | undefined): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ContractViolation(type, [{ path: 'data', message: 'is not valid JSON' }], { cause: error });
  }
}

function violationFrom(type: string | undefined, error: unknown): ContractViolation {
  if (error instanceof ContractViolation) return error;
  const message = error instanceof ValidationError || error instanceof Error ? error.message.split('\n')[0] ?? 'invalid' : String(error);
  return new ContractViolation(type, [{ path: '(message)', message: message || 'not a CloudEvent' }], { cause: error });
}

/** The CloudEvents type named in a message's headers or structured body, best effort (for errors). */
export function typeHint(headers: Readonly<Record<string, string>>, body: string | undefined, headerName: string): string | undefined {
  const fromHeader = headers[headerName];
  if (fromHeader !== undefined) return fromHeader;
  if (body === undefined) return undefined;
  try {
    const parsed = JSON.parse(body) as { type?: unknown };
    return typeof parsed.type === 'string' ? parsed.type : undefined;
  } catch {
    return undefined;
  }
}

/** All catalogue types, every version, for quick membership checks in bindings. */
export const knownTypes: ReadonlySet<string> = new Set(entries.map((e) => e.type));
