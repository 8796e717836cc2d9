/**
 * Recognises a dead-lettered delivery: the dead-letter sink keeps the original event and adds Knative's
 * extension attributes `knativeerrordest`, `knativeerrorcode` and `knativeerrordata`. They arrive as
 * `ce-` headers in binary mode (our host and the dev dispatcher) or as attributes of the event object
 * (faas-js-runtime).
 */
import type { DeadLetter } from '../lifecycle/dead-letters.ts';

/** The longest cause kept from `knativeerrordata`. */
const maxReason = 500;

function attribute(context: unknown, raw: unknown, name: string): string | undefined {
  const fromEvent = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[name] : undefined;
  if (typeof fromEvent === 'string') return fromEvent;
  const headers = typeof context === 'object' && context !== null ? (context as { headers?: Record<string, unknown> }).headers : undefined;
  const header = headers?.[`ce-${name}`];
  return typeof header === 'string' ? header : Array.isArray(header) && typeof header[0] === 'string' ? header[0] : undefined;
}

/** The dead-letter attributes of a delivery, without type and id (taken from the decoded event), or undefined for an ordinary delivery. */
export function deadLetterOf(context: unknown, raw: unknown): Omit<DeadLetter, 'type' | 'id'> | undefined {
  const destination = attribute(context, raw, 'knativeerrordest');
  const code = attribute(context, raw, 'knativeerrorcode');
  if (destination === undefined && code === undefined) return undefined;
  const status = Number.parseInt(code ?? '', 10);
  const reason = [...(attribute(context, raw, 'knativeerrordata') ?? '').slice(0, maxReason)].map((c) => (c < ' ' || c === '\u007f' ? ' ' : c)).join('');
  return { destination: (destination ?? '').slice(0, 500), status: Number.isFinite(status) ? status : 0, reason };
}
