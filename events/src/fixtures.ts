/**
 * Golden fixtures: one real, valid event per catalogue type (events/fixtures/<name>.json), for
 * binding round-trip tests here and handler tests in the functions.
 */
import { readFileSync } from 'node:fs';
import type { EventName } from './catalogue.ts';
import { decode, type EventOf } from './event.ts';

/** Directory of the fixture files. */
export const fixturesDir = new URL('../fixtures/', import.meta.url);

/** The raw JSON of a fixture, as checked in. */
export function fixtureJson(name: EventName): unknown {
  return JSON.parse(readFileSync(new URL(`${name}.json`, fixturesDir), 'utf8')) as unknown;
}

/** A fixture decoded into its typed, frozen event. */
export function fixture<N extends EventName>(name: N): EventOf<N> {
  return decode(fixtureJson(name)) as EventOf<N>;
}
