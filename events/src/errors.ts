/**
 * ContractViolation: an event (or message) does not satisfy the catalogue. It is permanent — the
 * delivery layer answers 400 and dead-letters it, never retries (DESIGN.md "Delivery semantics").
 */
import type { z } from 'zod';

/** One failing field: `path` like `data.targets[0].image`, `message` says what is wrong. */
export interface ContractIssue {
  readonly path: string;
  readonly message: string;
}

/** Formats a zod/JSON path as `spec.services[1].dependsOn[0]`; the empty path is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Flattens zod issues into field issues; unknown keys are reported at the key's own path. */
export function issuesFrom(error: z.ZodError, prefix: readonly PropertyKey[] = []): ContractIssue[] {
  const out: ContractIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...prefix, ...issue.path, key]), message: 'unknown field' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      out.push({ path: formatPath([...prefix, ...issue.path]), message: issue.message });
    } else {
      out.push({ path: formatPath([...prefix, ...issue.path]), message: issue.message });
    }
  }
  return out;
}

/** Thrown by decode/encode/createEvent when an event breaks the contract; never retriable. */
export class ContractViolation extends Error {
  /** Stable code for the delivery layer (400, dead letter). */
  readonly code = 'CONTRACT_VIOLATION';
  /** A contract violation never succeeds on retry. */
  readonly retriable = false;
  /** The CloudEvents type concerned, when known. */
  readonly type: string | undefined;
  /** The first failing field path, e.g. `data.shardId`. */
  readonly path: string;
  /** Every failing field. */
  readonly issues: readonly ContractIssue[];

  constructor(type: string | undefined, issues: readonly ContractIssue[], options?: { cause?: unknown }) {
    const first = issues[0] ?? { path: '(root)', message: 'invalid event' };
    // Bounded: the message goes into a 400 body and a log line (every issue stays in `issues`).
    const shown = issues.slice(0, 20).map((i) => `${i.path.slice(0, 200)}: ${i.message.slice(0, 200)}`);
    const list = `${shown.join('; ')}${issues.length > shown.length ? `; and ${issues.length - shown.length} more` : ''}`;
    super(`${type ?? 'unknown event type'}: ${list || `${first.path}: ${first.message}`}`, options);
    this.name = 'ContractViolation';
    this.type = type;
    this.path = first.path;
    this.issues = Object.freeze([...issues]);
  }
}
