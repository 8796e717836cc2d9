/**
 * A MongoDB migration's declarative change (`set`/`rename`/`unset`, of `backfill` or `down`) applied to
 * a copy of one document in JavaScript, with MongoDB's update semantics (pure): the engine diffs the
 * result against the pre-image and writes only what changed, compare-and-set. Also the paths a change
 * reads and touches, which that write pins to their pre-image values.
 */

/** The declarative changes of `backfill` or `down`: same shape in both. */
export interface DocumentChanges {
  set: Record<string, unknown>;
  rename: Record<string, string>;
  unset: string[];
}

/** A version marker field and the value a change sets it to. */
export interface MarkerWrite {
  field: string;
  to: unknown;
}

/** A change that cannot apply to a document (MongoDB would refuse the same update for it). */
export class DocumentPathError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.name = 'DocumentPathError';
    this.path = path;
  }
}

type Fields = Record<string, unknown>;

/** True for a plain (sub-)document: not an array, a Date, a BSON value or any other class instance. */
export function isPlainDocument(value: unknown): value is Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** The value at a dotted path of a document (through plain sub-documents only), or undefined. */
export function valueAtPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const segment of path.split('.')) {
    if (!isPlainDocument(current)) return undefined;
    current = current[segment];
  }
  return current;
}

/** True when `path` can be set on `document`: every ancestor that exists is a plain sub-document. */
export function canSetPath(document: unknown, path: string): boolean {
  let current: unknown = document;
  for (const segment of path.split('.').slice(0, -1)) {
    current = (current as Fields)[segment];
    if (current === undefined) return true;
    if (!isPlainDocument(current)) return false;
  }
  return true;
}

/** A copy of `document` with `value` at the dotted `path` (intermediate objects created or copied; a non-document in the way is replaced). */
export function setAtPath<T extends Fields>(document: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split('.');
  if (head === undefined) return document;
  if (rest.length === 0) return { ...document, [head]: value };
  const inner = document[head];
  return { ...document, [head]: setAtPath(isPlainDocument(inner) ? inner : {}, rest.join('.'), value) };
}

/** Like setAtPath, but a value in the way that is not a document is an error (as MongoDB's `$set` says). */
export function setAtPathStrict<T extends Fields>(document: T, path: string, value: unknown): T {
  if (!canSetPath(document, path)) throw new DocumentPathError(path, `cannot set ${path}: a part of it is not a document`);
  return setAtPath(document, path, value);
}

/** A copy of `document` without the field at `path`; unchanged when there is none. */
export function unsetAtPath<T extends Fields>(document: T, path: string): T {
  const [head, ...rest] = path.split('.');
  if (head === undefined || !(head in document)) return document;
  if (rest.length === 0) {
    const { [head]: _removed, ...kept } = document;
    return kept as T;
  }
  const inner = document[head];
  if (!isPlainDocument(inner)) return document;
  const changed = unsetAtPath(inner, rest.join('.'));
  return changed === inner ? document : { ...document, [head]: changed };
}

/** The field a `set` value references (`$name` → `name`), or undefined for a literal. */
export function referencedPath(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith('$') ? value.slice(1) : undefined;
}

/**
 * `document` migrated by `changes` like one MongoDB update would (`$set` with references resolved from
 * the pre-image — a missing one sets nothing —, `$rename`, `$unset`), plus the marker. Throws a
 * DocumentPathError where MongoDB would refuse the update (a path through a value that is not a document).
 */
export function migratedDocument<T extends Fields>(document: T, changes: DocumentChanges, marker?: MarkerWrite): T {
  let migrated = document;
  for (const [path, value] of Object.entries(changes.set)) {
    const reference = referencedPath(value);
    const resolved = reference === undefined ? value : valueAtPath(document, reference);
    if (resolved !== undefined) migrated = setAtPathStrict(migrated, path, resolved);
  }
  for (const [from, to] of Object.entries(changes.rename)) {
    const moved = valueAtPath(document, from);
    if (moved !== undefined) migrated = setAtPathStrict(unsetAtPath(migrated, from), to, moved);
  }
  for (const path of changes.unset) migrated = unsetAtPath(migrated, path);
  return marker ? setAtPathStrict(migrated, marker.field, marker.to) : migrated;
}

/** The paths whose values a change reads: `$field` references and rename sources. */
export function readPaths(changes: DocumentChanges): string[] {
  const references = Object.values(changes.set).map(referencedPath).filter((path): path is string => path !== undefined);
  return unique([...references, ...Object.keys(changes.rename)]);
}

/** The paths a change writes or removes (set targets, rename sources and targets, unset, the marker). */
export function touchedPaths(changes: DocumentChanges, marker?: MarkerWrite): string[] {
  const renamed = Object.entries(changes.rename).flat();
  return unique([...Object.keys(changes.set), ...renamed, ...changes.unset, ...(marker ? [marker.field] : [])]);
}

/** True when the change has anything to do (a `down` without set/rename/unset has nothing). */
export function hasChanges(changes: DocumentChanges): boolean {
  return Object.keys(changes.set).length + Object.keys(changes.rename).length + changes.unset.length > 0;
}

function unique(paths: string[]): string[] {
  return [...new Set(paths)];
}
