/**
 * The `dataschema` of every upshift CloudEvent (CloudEvents 1.0 §3.1.1, an optional context attribute: a
 * URI of the schema `data` adheres to): the `$id` of the JSON Schema `npm run events:generate` writes
 * for the type (events/generated/schemas/<type>.json). A type is versioned, so its schema URI is too.
 */

/** Base URI of upshift's schema `$id`s. */
export const SCHEMA_BASE = 'https://upshift.dev/schemas/';

/** The schema URI of an event type's data, e.g. `https://upshift.dev/schemas/dev.upshift.shard.requested.v1.json`. */
export function dataSchemaOf(type: string): string {
  return `${SCHEMA_BASE}${type}.json`;
}
