/** Catalog checksums (like Flyway's): a migration that already ran must not change unnoticed. */
import { createHash } from 'node:crypto';

/**
 * sha256 of the normalized document: the parsed YAML as canonical JSON (keys sorted), so comments,
 * key order, quoting style and line endings do not count, and any change of meaning does.
 */
export function migrationChecksum(document: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(document)).digest('hex')}`;
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
