/**
 * `_id` values as the strings a KeyRange and a checkpoint carry (canonical Extended JSON, so an
 * ObjectId, a number and a string stay distinct), and the filters built from them.
 */
import { BSON } from 'mongodb';
import type { Document } from 'mongodb';
import type { KeyRange } from '../core/shards.ts';

/** Encodes an `_id` as canonical Extended JSON text. */
export function encodeKey(value: unknown): string {
  return BSON.EJSON.stringify(value, { relaxed: false });
}

/** Decodes a key encoded by `encodeKey`. */
export function decodeKey(text: string): unknown {
  return BSON.EJSON.parse(text, { relaxed: false });
}

/** The `_id` condition of a page: after the checkpoint (or from the start), before the end, up to the ceiling. */
export function idCondition(range: KeyRange, after: string | null, ceiling: string | null): Document | null {
  const condition: Document = {};
  if (after !== null) condition.$gt = decodeKey(after);
  else if (range.start !== null) condition.$gte = decodeKey(range.start);
  if (range.end !== null) condition.$lt = decodeKey(range.end);
  if (ceiling !== null) condition.$lte = decodeKey(ceiling);
  return Object.keys(condition).length > 0 ? condition : null;
}

/** A filter combining `base` with an `_id` condition (with `$and` if `base` constrains `_id` itself). */
export function withIdCondition(base: Document, condition: Document | null): Document {
  if (condition === null) return base;
  return '_id' in base ? { $and: [base, { _id: condition }] } : { ...base, _id: condition };
}
