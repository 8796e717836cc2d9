import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, redactCredentials, redactSecrets, UpshiftError, wrapError } from '@upshift/runtime';

const url = 'postgres://app:secret@db.local:5432/shop';
const masked = 'postgres://app:***@db.local:5432/shop';

const texts: Array<[string, string]> = [
  [`connect to ${url} failed`, `connect to ${masked} failed`],
  ['mongodb+srv://u:p%40ss@cluster0.example.net/crm?retryWrites=true', 'mongodb+srv://u:***@cluster0.example.net/crm?retryWrites=true'],
  ['mongodb://u:p@ss/w?rd@h1,h2/crm', 'mongodb://u:***@h1,h2/crm'],
  ['redis://:secret@cache:6379', 'redis://:***@cache:6379'],
  ['"postgres://a:secret@h/db","b"', '"postgres://a:***@h/db","b"'],
  ['host=db port=5432 password=secret dbname=shop', 'host=db port=5432 password=*** dbname=shop'],
  ["host=db password = 'sec ret\\'s' user=app", 'host=db password=*** user=app'],
  ['PGPASSWORD=secret psql', 'PGPASSWORD=*** psql'],
  ['postgres://h/db?sslmode=require&password=secret&application_name=x', 'postgres://h/db?sslmode=require&password=***&application_name=x'],
  ['postgres://app@h/db and http://h:8080/path and user@example.com', 'postgres://app@h/db and http://h:8080/path and user@example.com'],
  [masked, masked],
];

test('redactCredentials masks the password of URLs, libpq keyword strings and query parameters, and nothing else', () => {
  for (const [input, expected] of texts) assert.equal(redactCredentials(input), expected, input);
});

test('redactSecrets: strings at any depth and in arrays, secret-looking keys as a whole, the input untouched', () => {
  const value = {
    a: { b: { c: { d: { e: [`x ${url}`, { f: [url] }] } } } },
    connectionString: 'host=db dbname=shop', SHOP_DATABASE_URL: 'postgres://h/shop', DATABASE_URL: url,
    password: 'hunter2', clientSecret: 'x', headers: { Authorization: 'Bearer abc' }, token: 'abc',
    CRM_MONGODB_URL: 'mongodb://u:secret@mongo:27017/', secretRef: 'shop-db', count: 3, when: new Date(0), nothing: null,
  };
  const copy = structuredClone(value);
  const out = redactSecrets(value);
  assert.deepEqual(out, {
    a: { b: { c: { d: { e: [`x ${masked}`, { f: [masked] }] } } } },
    connectionString: '[redacted]', SHOP_DATABASE_URL: '[redacted]', DATABASE_URL: '[redacted]',
    password: '[redacted]', clientSecret: '[redacted]', headers: { Authorization: '[redacted]' }, token: '[redacted]',
    CRM_MONGODB_URL: 'mongodb://u:***@mongo:27017/', secretRef: 'shop-db', count: 3, when: '1970-01-01T00:00:00.000Z', nothing: null,
  });
  assert.deepEqual(value, copy, 'the logged value itself is not changed');
});

test('redactSecrets: cycles become [circular], shared values stay, nesting past the bound is cut', () => {
  const shared = { note: url };
  const cyclic: Record<string, unknown> = { shared, again: shared };
  cyclic.self = cyclic;
  assert.deepEqual(redactSecrets(cyclic), { shared: { note: masked }, again: { note: masked }, self: '[circular]' });
  let deep: Record<string, unknown> = { url };
  for (let i = 0; i < 50; i += 1) deep = { deeper: deep };
  const text = JSON.stringify(redactSecrets(deep));
  assert.match(text, /\[too deep\]/);
  assert.doesNotMatch(text, /secret/);
});

test('redactSecrets: Errors stay Errors of their class, with message, stack, fields, causes and aggregated errors redacted', () => {
  const root = Object.assign(new Error(`password authentication failed: ${url}`), { code: '28P01', config: { connectionString: url, host: 'db.local' } });
  const middle = new TypeError(`pool for ${url}`, { cause: root });
  const top = new AggregateError([new Error(`mongodb://u:secret@m/crm down`)], 'all failed', { cause: middle });
  const out = redactSecrets({ err: top }).err;
  assert.ok(out instanceof AggregateError);
  const chain: unknown[] = [];
  for (let e: unknown = out; e instanceof Error; e = e.cause) chain.push(e);
  assert.deepEqual(chain.map((e) => (e as Error).constructor.name), ['AggregateError', 'TypeError', 'Error']);
  const all = [...chain, ...(out as AggregateError).errors] as Error[];
  for (const e of all) {
    assert.doesNotMatch(`${e.message} ${e.stack ?? ''}`, /secret/);
  }
  assert.equal((chain[1] as Error).message, `pool for ${masked}`);
  assert.deepEqual({ ...(chain[2] as object) }, { code: '28P01', config: { connectionString: '[redacted]', host: 'db.local' } });
  assert.match(root.message, /secret/, 'the original error is untouched');
});

test('an UpshiftError (and so every wrapped library error) carries no password in its message, stack or context', () => {
  const wrapped = wrapError(new Error(`connect ECONNREFUSED ${url}`), { target: url });
  assert.equal(wrapped.message, `connect ECONNREFUSED ${masked}`);
  assert.doesNotMatch(`${wrapped.stack ?? ''} ${JSON.stringify(wrapped.toJSON())}`, /secret/);
  assert.doesNotMatch(new UpshiftError('INTERNAL', 'host=db password=secret').message, /secret/);
});

/** A logger of the runtime writing to an in-memory stream; returns the lines written. */
function loggerLines(): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[]; raw: () => string } {
  let raw = '';
  const log = createLogger('redaction-test', 'debug', { write: (chunk: string) => void (raw += chunk) });
  return { log, raw: () => raw, lines: () => raw.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('a function\'s log line with a nested connectionString, a URL in a message, an Error cause or a child binding contains no password', () => {
  const { log, lines, raw } = loggerLines();
  const cause = new Error(`getaddrinfo ENOTFOUND for ${url}`);
  log.info({ shard: { engine: { connectionString: url, options: { url } } }, targets: [{ dsn: url }] }, 'opened');
  log.warn({ err: wrapError(new Error('pool failed', { cause })) }, 'store unavailable');
  log.error(new Error(`cannot connect to ${url}`));
  log.info('connecting to %s', url);
  log.child({ store: url }).info(`retrying ${url}`);
  log.child({ runId: 'r-1' }).child({ engine: { connectionString: url }, dsn: url }).info('grandchild');
  const text = raw();
  assert.doesNotMatch(text, /secret/);
  const [opened, unavailable, thrown, formatted, child, grandchild] = lines();
  assert.deepEqual(opened?.shard, { engine: { connectionString: '[redacted]', options: { url: masked } } });
  assert.deepEqual(opened?.targets, [{ dsn: masked }]);
  const err = unavailable?.err as { type: string; message: string; stack: string; code: string };
  assert.equal(err.type, 'UpshiftError', 'still serialized as an error');
  assert.equal(err.code, 'INTERNAL');
  assert.match(err.message, /pool failed: getaddrinfo ENOTFOUND for postgres:\/\/app:\*\*\*@db\.local/);
  assert.match(err.stack, /caused by: Error: getaddrinfo ENOTFOUND for postgres:\/\/app:\*\*\*@db\.local/);
  assert.equal(thrown?.msg, `cannot connect to ${masked}`);
  assert.equal(formatted?.msg, `connecting to ${masked}`);
  assert.deepEqual([child?.store, child?.msg], [masked, `retrying ${masked}`]);
  assert.deepEqual([grandchild?.runId, grandchild?.engine, grandchild?.dsn], ['r-1', { connectionString: '[redacted]' }, masked]);
});
