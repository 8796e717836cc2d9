/**
 * How the PostgreSQL engine talks to a database: every statement through the extended query protocol,
 * so the server runs exactly one statement per call; and session settings given at connection start.
 *
 * node-postgres sends a query without values — even with `values: []` — as a simple-protocol Query
 * message, which runs every statement of its text (pg/lib/query.js `requiresPreparation`). A catalog
 * fragment that fooled a check could then add `; COMMIT; DROP TABLE …`. With Parse/Bind/Execute the
 * server refuses a second statement ("cannot insert multiple commands into a prepared statement",
 * 42601). `queryMode: 'extended'` forces it; this client sets it on every query it is given, so no
 * call site of the engine can forget it.
 */
import pg from 'pg';

/** A node-postgres client that sends every query with the extended protocol (one statement per call). */
export class ExtendedProtocolClient extends pg.Client {}

ExtendedProtocolClient.prototype.query = function query(this: pg.Client, config: unknown, ...rest: unknown[]): unknown {
  const base = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  return base.call(this, extendedQuery(config), ...rest);
} as pg.Client['query'];

/** The query config with `queryMode: 'extended'` (a Submittable such as a cursor is left as it is: it prepares itself). */
export function extendedQuery(config: unknown): unknown {
  if (typeof config === 'string') return { text: config, queryMode: 'extended' };
  if (config === null || typeof config !== 'object' || typeof (config as { submit?: unknown }).submit === 'function') return config;
  return { ...config, queryMode: 'extended' };
}

/**
 * Settings of every engine session, sent in the startup packet's `options` (`-c name=value`), so they
 * hold from the first statement and after every reconnect:
 * - `standard_conforming_strings=on`: `'\'` is read as the catalog check (libpg-query) reads it;
 * - `default_transaction_read_only=on` when `readOnly`: plan's preflight and verify's checks only read,
 *   and the server refuses any write of theirs with 25006 (read_only_sql_transaction).
 * An `options` parameter of the URL is kept, ours after it (the last `-c` of a name wins); node-postgres
 * lets the URL's parameters override the config, so it is moved out of the URL.
 */
export function sessionConnection(connectionString: string, readOnly: boolean): { connectionString: string; options: string } {
  const settings = ['standard_conforming_strings=on', ...(readOnly ? ['default_transaction_read_only=on'] : [])].map((setting) => `-c ${setting}`);
  let url: URL | undefined;
  try {
    url = new URL(connectionString);
  } catch {
    url = undefined;
  }
  const fromUrl = url?.searchParams.get('options') ?? '';
  if (url && fromUrl !== '') {
    url.searchParams.delete('options');
    return { connectionString: url.toString(), options: [fromUrl, ...settings].join(' ') };
  }
  return { connectionString, options: settings.join(' ') };
}
