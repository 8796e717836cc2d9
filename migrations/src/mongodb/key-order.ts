/**
 * The order in which MongoDB sorts `_id` values (pure), so a restore can walk two sorted cursors — the
 * backup and the live collection — side by side instead of looking documents up one by one (FerretDB
 * uses no index for `$in`). BSON comparison order: MinKey < null < numbers < strings < objects < arrays
 * < binary < ObjectId < booleans < dates < timestamps < regular expressions < MaxKey; within a type by
 * value (strings by their UTF-8 bytes, binary by length, subtype, bytes).
 */
import { BSON } from 'mongodb';

const typeRanks: Record<string, number> = {
  MinKey: 1, null: 2, number: 3, string: 4, object: 5, array: 6, Binary: 7, ObjectId: 8, boolean: 9, Date: 10, Timestamp: 11, regex: 12, MaxKey: 13,
};

/** The BSON comparison class of a value. */
function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'Date';
  if (value instanceof RegExp) return 'regex';
  const bsonType = (value as { _bsontype?: unknown })._bsontype;
  switch (bsonType) {
    case 'Int32': case 'Double': case 'Long': case 'Decimal128': return 'number';
    case 'BSONSymbol': return 'string';
    case 'BSONRegExp': return 'regex';
    case 'Binary': case 'ObjectId': case 'Timestamp': case 'MinKey': case 'MaxKey': return bsonType;
    default: return 'object';
  }
}

const sign = (difference: number) => (difference < 0 ? -1 : difference > 0 ? 1 : 0);

/** Compares two `_id` values the way MongoDB sorts them: negative, zero or positive. */
export function compareKeys(a: unknown, b: unknown): number {
  const typeA = typeOf(a);
  const typeB = typeOf(b);
  if (typeA !== typeB) return sign((typeRanks[typeA] ?? 0) - (typeRanks[typeB] ?? 0));
  switch (typeA) {
    case 'number': return compareNumbers(a, b);
    case 'string': return Buffer.compare(Buffer.from(String(a), 'utf8'), Buffer.from(String(b), 'utf8'));
    case 'boolean': return sign(Number(a) - Number(b));
    case 'Date': return sign((a as Date).getTime() - (b as Date).getTime());
    case 'ObjectId': return Buffer.compare((a as BSON.ObjectId).id, (b as BSON.ObjectId).id);
    case 'Binary': return compareBinary(a as BSON.Binary, b as BSON.Binary);
    case 'Timestamp': return (a as BSON.Timestamp).compare(b as BSON.Timestamp);
    case 'regex': return compareRegex(a, b);
    case 'object': return compareSequences(Object.entries(a as object), Object.entries(b as object), true);
    case 'array': return compareSequences(Object.entries(a as unknown[]), Object.entries(b as unknown[]), false);
    default: return 0;
  }
}

function compareNumbers(a: unknown, b: unknown): number {
  if (a instanceof BSON.Long && b instanceof BSON.Long) return a.compare(b);
  const x = toNumber(a);
  const y = toNumber(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return sign(Number(!Number.isNaN(x)) - Number(!Number.isNaN(y)));
  return sign(x - y);
}

function toNumber(value: unknown): number {
  if (value instanceof BSON.Long) return value.toNumber();
  if (value instanceof BSON.Decimal128) return Number(value.toString());
  return Number(value);
}

function compareBinary(a: BSON.Binary, b: BSON.Binary): number {
  return sign(a.position - b.position) || sign(a.sub_type - b.sub_type) || Buffer.compare(a.value(), b.value());
}

function compareRegex(a: unknown, b: unknown): number {
  const parts = (value: unknown) => value instanceof RegExp ? [value.source, value.flags] : [(value as BSON.BSONRegExp).pattern, (value as BSON.BSONRegExp).options];
  const [patternA = '', flagsA = ''] = parts(a);
  const [patternB = '', flagsB = ''] = parts(b);
  return compareKeys(patternA, patternB) || compareKeys(flagsA, flagsB);
}

/** Embedded documents (and arrays) element by element: type, then field name (documents), then value; shorter first. */
function compareSequences(a: Array<[string, unknown]>, b: Array<[string, unknown]>, named: boolean): number {
  for (let index = 0; index < Math.min(a.length, b.length); index += 1) {
    const [nameA, valueA] = a[index] as [string, unknown];
    const [nameB, valueB] = b[index] as [string, unknown];
    const byType = sign((typeRanks[typeOf(valueA)] ?? 0) - (typeRanks[typeOf(valueB)] ?? 0));
    const byName = named ? compareKeys(nameA, nameB) : 0;
    const order = byType || byName || compareKeys(valueA, valueB);
    if (order !== 0) return order;
  }
  return sign(a.length - b.length);
}
