/**
 * Events the host decoded itself are taken as they are; anything else handed to a function module is
 * still decoded and checked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEvent } from '@upshift/events';
import type { AnyUpshiftEvent } from '@upshift/events';
import { checkedEvent, markChecked } from '../../src/host/checked-events.ts';

const event = createEvent('migration.expand.requested', { runId: 'checked-a', migrations: ['a@1'] }, { producer: 'cli' }) as AnyUpshiftEvent;

test('an event the host marked is taken as it is', () => {
  assert.equal(checkedEvent(markChecked(event)), event);
});

test('a copy, a plain object or anything else is not: it is decoded and checked', () => {
  assert.equal(checkedEvent({ ...event }), undefined);
  assert.equal(checkedEvent(JSON.parse(JSON.stringify(event))), undefined);
  assert.equal(checkedEvent(undefined), undefined);
  assert.equal(checkedEvent('{}'), undefined);
});
