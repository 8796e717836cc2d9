/**
 * Compare-and-set filters (pure): a write applies only while every path it depends on still holds the
 * value that was read, so a write of the application in between makes it match nothing (a miss) instead
 * of being overwritten.
 *
 * MongoDB's query semantics are looser than equality, and each condition closes what it can:
 * - `{$eq: null}` also matches a missing field → null is `{$type: 'null'}`;
 * - `{$eq: v}` also matches an array holding v → `$not: {$type: 'array'}` for every non-array value;
 * - numbers of different BSON types compare equal (5 = 5.0 = Long 5) → numbers also pin `$type`;
 * - `{$eq: [..]}` also matches an array holding that array as an element → `$size` narrows it to arrays
 *   of the same length. What is left open: on MongoDB an array of the same length that holds the old
 *   array as an element (FerretDB stores no nested arrays); numbers of other types nested inside an
 *   embedded document or array (compared by value); a path through an array (`a.b` also finds `b`
 *   in array elements). Each of these needs the application to write exactly such a look-alike value
 *   between one read and one write.
 */
import { BSON } from 'mongodb';
import type { Document } from 'mongodb';

/** The `$type` alias of a number as the driver writes it, or undefined when `value` is not a number. */
export function numberType(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 'int' : 'double';
  if (value instanceof BSON.Int32) return 'int';
  if (value instanceof BSON.Double) return 'double';
  if (value instanceof BSON.Long) return 'long';
  if (value instanceof BSON.Decimal128) return 'decimal';
  return undefined;
}

/** The query condition "this path holds exactly `value`" (`undefined`: the field is missing). */
export function holdsCondition(value: unknown): Document {
  if (value === undefined) return { $exists: false };
  if (value === null) return { $type: 'null', $not: { $type: 'array' } };
  if (Array.isArray(value)) return { $eq: value, $size: value.length };
  const type = numberType(value);
  return type === undefined ? { $eq: value, $not: { $type: 'array' } } : { $eq: value, $type: type, $not: { $type: 'array' } };
}

/**
 * The paths to pin, without those under another pinned path (pinning a document or its absence pins
 * everything under it), in a stable order.
 */
export function outermostPaths(paths: Iterable<string>): string[] {
  const all = new Set(paths);
  const underAnother = (path: string) => path.split('.').slice(0, -1).some((_, index, segments) => all.has(segments.slice(0, index + 1).join('.')));
  return [...all].sort().filter((path) => !underAnother(path));
}

/**
 * The filter of a compare-and-set write: `_id` as a plain equality (the stack's FerretDB uses its
 * `_id` index only for that), each pinned path holding the value `read` gives it, and `also` (the
 * pending marker guard) under `$and` so it can constrain the same fields.
 */
export function casFilter(id: unknown, paths: Iterable<string>, read: (path: string) => unknown, also?: Document): Document {
  const filter: Document = { _id: id };
  for (const path of outermostPaths(paths)) filter[path] = holdsCondition(read(path));
  if (also !== undefined && Object.keys(also).length > 0) filter.$and = [also];
  return filter;
}
