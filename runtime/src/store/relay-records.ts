/**
 * How the relay sorts what it claimed (pure): each outbox row becomes a message with its size on the
 * wire, or is set aside with its reason (not a valid event; larger than one record may be). The rest is
 * cut, in order, into publishes whose total stays under the broker's limit: Kafka checks the limit on
 * the batch of one partition (`message.max.bytes`), so two records that fit alone may not fit together.
 */
import { boundText, decode, encodeKafka, entryForType } from '@upshift/events';
import type { OutgoingMessage } from '../transport/types.ts';
import type { PendingOutboxRow, SetAsideRow } from './outbox.ts';

/**
 * The largest record (and publish) the relay sends by default: under Kafka's default `message.max.bytes`
 * (1048588), leaving room for the batch and record overheads.
 */
export const defaultMaxRecordBytes = 1_000_000;

/** A row ready to publish: its message and its size as a Kafka record (value, key and headers). */
export interface PreparedRow {
  readonly seq: string;
  readonly message: OutgoingMessage;
  readonly bytes: number;
}

/** A claimed batch sorted: what to publish, in order, what to set aside, and what to leave for another relay. */
export interface SortedRows {
  readonly publishable: PreparedRow[];
  readonly setAside: SetAsideRow[];
  /** Rows of a type this process does not know (a newer version wrote them during a rolling update). */
  readonly unknown: string[];
}

/**
 * Sorts claimed rows: a row whose record exceeds `maxRecordBytes`, or whose type this process knows but
 * whose data breaks it (published schemas never change, so it never will fit), is set aside. A row of a
 * type it does not know is left alone: a relay of the version that wrote it will publish it.
 */
export function sortRows(rows: readonly PendingOutboxRow[], maxRecordBytes: number): SortedRows {
  const publishable: PreparedRow[] = [];
  const setAside: SetAsideRow[] = [];
  const unknown: string[] = [];
  for (const row of rows) {
    let prepared: PreparedRow;
    try {
      prepared = prepare(row);
    } catch (err) {
      const type = row.event['type'];
      if (typeof type !== 'string' || entryForType(type) === undefined) unknown.push(row.seq);
      else setAside.push({ seq: row.seq, reason: clip(`not a valid event: ${(err as Error).message}`) });
      continue;
    }
    if (prepared.bytes > maxRecordBytes) {
      setAside.push({ seq: row.seq, reason: tooLargeReason(prepared.bytes, `the relay's limit of ${maxRecordBytes} bytes`) });
    } else {
      publishable.push(prepared);
    }
  }
  return { publishable, setAside, unknown };
}

function prepare(row: PendingOutboxRow): PreparedRow {
  const event = decode(row.event);
  const record = encodeKafka(event);
  const key = row.partitionKey ?? record.key;
  let bytes = Buffer.byteLength(record.value) + Buffer.byteLength(key ?? '');
  for (const [name, value] of Object.entries(record.headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return { seq: row.seq, message: { topic: row.topic, key: row.partitionKey ?? undefined, event, record }, bytes };
}

/** Cuts rows, in order, into groups whose total size is at most `maxBytes` (a row alone always forms a group). */
export function chunksOf(rows: readonly PreparedRow[], maxBytes: number): PreparedRow[][] {
  const chunks: PreparedRow[][] = [];
  let current: PreparedRow[] = [];
  let size = 0;
  for (const row of rows) {
    if (current.length > 0 && size + row.bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(row);
    size += row.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Kafka error types that mean "this record (batch) is too large", never cured by retrying it. */
const tooLargeTypes = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** True when `err` (or a cause of it) is the broker refusing a record as too large. */
export function isTooLarge(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && tooLargeTypes.has(type)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The reason a row of `bytes` is set aside for size. */
export function tooLargeReason(bytes: number, limit: string): string {
  return `a record of ${bytes} bytes is larger than ${limit}; it is never published`;
}

/** A reason fit for the outbox and a log line: control characters escaped, at most 500 characters. */
function clip(text: string): string {
  return boundText(text, 500);
}
