/**
 * Control-store statements as named prepared statements. Every parameterised statement the functions
 * send is one of a few fixed texts run thousands of times a run (a shard's claim, checkpoint, fan-in);
 * unnamed, PostgreSQL parses, analyses and plans each one anew. Named after a digest of its text, a
 * statement is parsed once per connection, and after five runs PostgreSQL may keep a generic plan.
 * Measured on 1,000 tiny shards (`BENCH_MANY_SHARDS=1000 node bench/src/many-shards.ts`, off then on):
 * the control store's backends used 16–25 % less CPU (runtime/README "Prepared statements").
 *
 * Bounded: only texts up to `maxPreparedTextLength` characters, and at most `maxPreparedTexts` distinct
 * texts per process (each is prepared on every connection that runs it, and lives as long as the
 * connection); past that, statements run unnamed as before. Statements without parameters (simple
 * query protocol: BEGIN, COMMIT, a commit's last statement) are never named.
 * A pooler in transaction mode must keep prepared statements per server connection (PgBouncer ≥ 1.21
 * with `max_prepared_statements`), or `UPSHIFT_CONTROL_PREPARED=off` turns this off.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

/** The most distinct statement texts one process names. */
export const maxPreparedTexts = 256;
/** Longer texts (generated statements) run unnamed. */
export const maxPreparedTextLength = 8192;

/** The names given so far, by text (shared by every connection of the process, so each text has one name). */
const namesByText = new Map<string, string>();

/** The name of `text` as a prepared statement, or undefined when it is not to be named. */
export function statementName(text: string): string | undefined {
  const known = namesByText.get(text);
  if (known !== undefined || text.length > maxPreparedTextLength || namesByText.size >= maxPreparedTexts) return known;
  const name = `upshift_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  namesByText.set(text, name);
  return name;
}

/** A query config of pg's `Client.query(config, values, callback)`: what naming looks at. */
interface QueryConfigLike {
  text?: unknown;
  name?: unknown;
  values?: unknown;
  submit?: unknown;
}

/**
 * The first argument of `Client.query` with a name added where the statement is parameterised and
 * nameable; anything else (a Query or cursor object, a statement already named, one without values)
 * is returned as it came.
 */
export function withStatementName(config: unknown, values: unknown): unknown {
  if (typeof config === 'string') {
    const name = hasValues(values) ? statementName(config) : undefined;
    return name === undefined ? config : { text: config, name };
  }
  if (typeof config !== 'object' || config === null) return config;
  const query = config as QueryConfigLike;
  if (typeof query.submit === 'function' || typeof query.text !== 'string' || query.name !== undefined) return config;
  if (!hasValues(query.values ?? values)) return config;
  const name = statementName(query.text);
  return name === undefined ? config : { ...query, name };
}

function hasValues(values: unknown): boolean {
  return Array.isArray(values) && values.length > 0;
}

/** A pg client whose parameterised statements are named prepared statements (see the module's note). */
export class PreparingClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [config, values, ...rest] = args;
    const query = super.query as (...all: unknown[]) => never;
    return query.call(this, withStatementName(config, values), values, ...rest);
  }
}
