/**
 * The size of a value as JSON, measured without serialising it and without recursion, giving up as soon
 * as it passes a limit: the cost is bounded by the limit, not by the value (a YAML alias bomb expands to
 * a graph that shares nodes, so walking it whole could take for ever; a cycle ends the same way).
 */

/** Approximate UTF-8 bytes of `value` as JSON when at most `limit`, else undefined. Never throws. */
export function jsonBytesWithin(value: unknown, limit: number): number | undefined {
  let bytes = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    bytes += ownBytes(next);
    if (bytes > limit) return undefined;
    if (Array.isArray(next)) {
      for (let i = next.length - 1; i >= 0; i -= 1) pending.push(next[i]);
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, child] of Object.entries(next)) {
        bytes += utf8Bytes(key) + 3; // "key":
        if (bytes > limit) return undefined;
        pending.push(child);
      }
    }
  }
  return bytes;
}

/** The bytes of a value itself: a scalar's text, or a container's brackets; plus one separator. */
function ownBytes(value: unknown): number {
  if (typeof value === 'string') return utf8Bytes(value) + 3;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value).length + 1;
  return value === null || value === undefined ? 5 : 3;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
