/**
 * The run's event timeline (pure), like Temporal's event history: every event the functions produced for
 * the run, oldest first, as one line each. The line is made of the fields people look for (wave, shard,
 * stage, action, reason); repeated progress reports are folded into the last one so hundreds of them do
 * not push the interesting events out of the kept window.
 */
import { nameOf, type AnyUpshiftEvent } from '@upshift/events';

/** One line of the timeline. */
export interface TimelineEntry {
  readonly at: number;
  readonly name: string;
  /** The producing function (`/upshift/<function>`). */
  readonly source: string;
  readonly summary: string;
}

/** How many entries a run page keeps (the newest). */
export const timelineLimit = 500;

function field(data: Record<string, unknown>, name: string): string | undefined {
  const value = data[name];
  if (typeof value === 'string') return value.length > 300 ? `${value.slice(0, 300)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** The few fields of an event's data worth a line, in a fixed order. */
export function summarize(event: AnyUpshiftEvent): string {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  const wave = data.wave;
  if (typeof wave === 'number') parts.push(`wave ${wave + 1}`);
  const shard = field(data, 'shardId');
  if (shard) parts.push(`shard ${shard.slice(shard.indexOf(':') + 1)}`);
  else if (field(data, 'migration')) parts.push(`${field(data, 'migration')}`);
  for (const name of ['stage', 'action', 'outcome', 'requestedBy', 'rowsMigrated', 'rowsRestored']) {
    const value = field(data, name);
    if (value !== undefined) parts.push(`${name} ${value}`);
  }
  if (typeof data.percent === 'number') parts.push(`${Math.round(data.percent)}%`);
  for (const name of ['message', 'reason']) {
    const value = field(data, name);
    if (value) parts.push(value);
  }
  return parts.join(' · ');
}

/** The entry of one event. */
export function timelineEntry(event: AnyUpshiftEvent): TimelineEntry {
  return { at: Date.parse(event.time), name: nameOf(event), source: event.source.replace(/^\/upshift\//, ''), summary: summarize(event) };
}

/** The timeline after `events` (in outbox order): consecutive progress reports fold into the newest; the newest `limit` kept. */
export function extendTimeline(timeline: readonly TimelineEntry[], events: readonly AnyUpshiftEvent[], limit = timelineLimit): TimelineEntry[] {
  const next = [...timeline];
  for (const event of events) {
    const entry = timelineEntry(event);
    if (entry.name === 'run.progress' && next.at(-1)?.name === 'run.progress') next[next.length - 1] = entry;
    else next.push(entry);
  }
  return next.length > limit ? next.slice(-limit) : next;
}
