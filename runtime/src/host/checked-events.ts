/**
 * Events the host decoded from a delivery itself (checked against the contract, deep-frozen, so they
 * cannot change afterwards): handling takes them as they are instead of checking them a second time.
 * Anything else handed to a function module (faas-js-runtime's CloudEvent, a test's plain object) is
 * still decoded and checked.
 */
import type { AnyUpshiftEvent } from '@upshift/events';

const checked = new WeakSet<object>();

/** Marks an event this process has just decoded and checked; returns it. */
export function markChecked(event: AnyUpshiftEvent): AnyUpshiftEvent {
  checked.add(event);
  return event;
}

/** The event itself when the host checked it, else undefined. */
export function checkedEvent(value: unknown): AnyUpshiftEvent | undefined {
  return typeof value === 'object' && value !== null && checked.has(value) ? (value as AnyUpshiftEvent) : undefined;
}
