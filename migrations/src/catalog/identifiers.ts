/**
 * Names the catalog lets into SQL and MongoDB commands. Everything is validated against a strict
 * shape here (pure); the engines additionally quote SQL identifiers with pg's `escapeIdentifier`.
 */

/** A lowercase SQL identifier: no quoting tricks, no schema dots, at most 63 bytes (NAMEDATALEN - 1). */
export const sqlIdentifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** An environment variable / Secret key name holding a connection URL (never the URL itself). */
export const connectionVariablePattern = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** A migration name (DNS-label shaped, as in the events' `name@version` references). */
export const migrationNamePattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A Flyway-like version: `1`, `2`, `1.3`. */
export const migrationVersionPattern = /^[0-9]+(\.[0-9]+)*$/;

/** A MongoDB field path: dotted segments, none starting with `$`, no empty segment. */
export const mongoFieldPathPattern = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** A MongoDB collection or database name we accept (a conservative subset of what MongoDB allows). */
export const mongoNamePattern = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

/** True when `value` is a plain lowercase SQL identifier. */
export function isSqlIdentifier(value: string): boolean {
  return sqlIdentifierPattern.test(value);
}

/**
 * Why a SQL expression from the catalog is refused, or null when it may be embedded: PostgreSQL's own
 * parser must read it as exactly one expression (see sql-guard.ts, which replaced a hand-written filter).
 */
export { expressionProblem as sqlFragmentProblem, sqlTypePattern } from './sql-guard.ts';

/**
 * A deterministic, valid identifier of at most 63 bytes built from parts: lowercase, non-identifier
 * characters become `_`; when too long, it is cut and suffixed with a short hash so names stay unique.
 */
export function derivedIdentifier(parts: string[], hash: (text: string) => string): string {
  const joined = parts.map((part) => part.toLowerCase().replace(/[^a-z0-9_]/g, '_')).join('__');
  const safe = /^[a-z_]/.test(joined) ? joined : `_${joined}`;
  if (safe.length <= 63) return safe;
  return `${safe.slice(0, 54)}_${hash(joined).slice(0, 8)}`;
}
