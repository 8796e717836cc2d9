/** Identifiers: run ids (UUIDv7, time-ordered) and derived event ids (same inputs → same id). */
import { createHash, randomBytes } from 'node:crypto';

function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds then random bits, so run ids sort by start
 * time in logs, topics and the control store. Used for new run ids.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  const ms = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return formatUuid(bytes);
}

/**
 * A UUIDv8 (RFC 9562 §5.8) from a SHA-256 of the parts: the id of an event produced by a handler
 * is derived from its inputs, so a redelivered input produces the same output id (dedup on (source, id)).
 */
export function derivedId(...parts: readonly string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  const bytes = new Uint8Array(hash.subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return formatUuid(bytes);
}
