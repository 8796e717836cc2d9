/**
 * Credentials never reach a log line, an event or the control store (DESIGN.md "Least privilege").
 * Library errors quote what they were given ("cannot connect to postgres://app:pw@db/shop"), and a
 * value can sit at any depth of what is logged, so redaction is by content as well as by key:
 * - in text: the password of a URL (`scheme://user:***@host`), `password=...` of a libpq keyword
 *   string, and `?password=` / `&password=` query parameters;
 * - in values: every string at any depth, in arrays, in Error messages, stacks and `cause` chains,
 *   plus the whole value of a secret-looking key (`password`, `token`, `secret`, `connectionString`,
 *   `DATABASE_URL`, `*_DATABASE_URL`, ...), with a cycle guard and a depth bound.
 */

/** What replaces a whole value under a secret-looking key. */
export const REDACTED = '[redacted]';
/** What replaces a password inside a text. */
const MASK = '***';
/** Nesting deeper than this is cut off (log objects are small; this bounds a hostile or huge one). */
const MAX_DEPTH = 10;

/**
 * `scheme://user:password@`. The password runs to the last `@` of the word, even across `/`, `?` or `#`
 * (a password written unencoded still is one): at worst a path with an `@` is masked too.
 */
const urlPassword = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'<>]*):[^\s"'<>]*@/gi;
/** `?password=...` or `&password=...` in a query string. */
const queryPassword = /([?&][a-z_]*pass(?:word|wd)=)[^&#\s]*/gi;
/** `password=...` / `password = 'quoted value'` of a libpq keyword string (also `sslpassword`, `PGPASSWORD=`). */
const keywordPassword = /(^|[\s,;(])([a-z_]*pass(?:word|wd)|pwd)\s*=\s*(?:'(?:[^'\\]|\\.)*'|\S*)/gi;

/** Keys whose whole value is a secret (compared lower-case, without `_`, `-` and `.`). */
const secretKeys = /(password|passwd|secret|token|authorization|cookie|apikey|privatekey|connectionstring|databaseurl)$/;

/** `text` with every password it carries (URL userinfo, libpq keyword, query parameter) replaced by `***`. */
export function redactCredentials(text: string): string {
  if (!/pass|pwd|:\/\//i.test(text)) return text; // nothing to look for: the common case stays cheap
  return text
    .replace(urlPassword, `$1:${MASK}@`)
    .replace(queryPassword, `$1${MASK}`)
    .replace(keywordPassword, `$1$2=${MASK}`);
}

/** Whether the value under `key` is a secret as a whole (a password, a token, a connection string). */
export function isSecretKey(key: string): boolean {
  return secretKeys.test(key.toLowerCase().replace(/[_.-]/g, ''));
}

/**
 * A copy of `value` with credentials redacted at any depth: strings by content, secret-looking keys as a
 * whole, Errors as Errors (same prototype, so loggers still serialize them as errors) with message, stack,
 * `cause` and own fields redacted. Cycles become `[circular]`, nesting past the bound `[too deep]`.
 */
export function redactSecrets<T>(value: T): T {
  return redactValue(value, new Set(), 0) as T;
}

function redactValue(value: unknown, path: Set<object>, depth: number): unknown {
  if (typeof value === 'string') return redactCredentials(value);
  if (value === null || typeof value !== 'object') return value;
  if (path.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  path.add(value);
  try {
    if (value instanceof Error) return redactError(value, path, depth);
    if (Array.isArray(value)) return value.map((item) => redactValue(item, path, depth + 1));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return redactValue(toJSON.call(value), path, depth + 1);
    return redactFields(value, path, depth, {});
  } finally {
    path.delete(value);
  }
}

/** Own enumerable fields of `source` (what JSON.stringify would write) redacted into `target`. */
function redactFields<T extends object>(source: object, path: Set<object>, depth: number, target: T): T {
  for (const [key, field] of Object.entries(source)) {
    (target as Record<string, unknown>)[key] = isSecretKey(key) && field !== undefined && field !== null ? REDACTED : redactValue(field, path, depth + 1);
  }
  return target;
}

/** An Error of the same prototype whose message, stack, cause, aggregated errors and fields are redacted. */
function redactError(error: Error, path: Set<object>, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error;
  for (const key of ['message', 'stack', 'cause', 'errors'] as const) {
    if (!Object.hasOwn(error, key)) continue;
    Object.defineProperty(copy, key, { value: redactValue((error as unknown as Record<string, unknown>)[key], path, depth + 1), writable: true, configurable: true, enumerable: false });
  }
  return redactFields(error, path, depth, copy);
}
