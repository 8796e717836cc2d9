/**
 * CloudEvents HTTP protocol binding via the SDK's `HTTP` binding: binary (§3.1, `ce-` headers)
 * and structured (§3.2, `application/cloudevents+json`). Knative delivers binary mode.
 */
import { HTTP } from 'cloudevents';
import { ContractViolation } from '../errors.ts';
import type { AnyUpshiftEvent } from '../event.ts';
import { fromSdkEvent, guardSdk, toSdkEvent, typeHint, type ContentMode } from './sdk.ts';

/** An HTTP request or response carrying one CloudEvent. */
export interface HttpMessage {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Incoming HTTP headers as Node delivers them (values may be arrays). */
export type IncomingHttpHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Encodes an event for HTTP (binary by default); throws ContractViolation if the event is invalid. */
export function encodeHttp(event: AnyUpshiftEvent, options: { readonly mode?: ContentMode } = {}): HttpMessage {
  const sdkEvent = toSdkEvent(event);
  const message = guardSdk(event.type, () => (options.mode === 'structured' ? HTTP.structured(sdkEvent) : HTTP.binary(sdkEvent)));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) if (typeof value === 'string') headers[name] = value;
  const body = typeof message.body === 'string' ? message.body : JSON.stringify(message.body);
  return Object.freeze({ headers: Object.freeze(headers), body });
}

/** Decodes an HTTP message (binary or structured) into a typed event, or throws ContractViolation. */
export function decodeHttp(message: { readonly headers: IncomingHttpHeaders; readonly body: string | Buffer }): AnyUpshiftEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    const single = Array.isArray(value) ? value[0] : value;
    if (typeof single === 'string') headers[name.toLowerCase()] = single;
  }
  const body = message.body.toString();
  const hint = typeHint(headers, body, 'ce-type');
  if (body === '') throw new ContractViolation(hint, [{ path: 'data', message: 'request has no body' }]);
  const decoded = guardSdk(hint, () => HTTP.toEvent({ headers, body }));
  return fromSdkEvent(decoded);
}
