/**
 * What upshift says about a bad request, bounded by construction: every path and message is escaped
 * (a key or value holding a newline, ESC or a bidi override cannot forge a log line or rewrite a
 * terminal) and cut to `problemLimits.textChars`, and the list stops at `problemLimits.listed` with
 * "and N more". A 40 KB request of unknown keys so yields a few KB of problems, never megabytes, and
 * always fits the `upgrade.rejected` schema.
 */
import type { z } from 'zod';
import type { ContractIssue } from '../errors.ts';
import { problemLimits } from './limits.ts';

/** The path of the entry that stands for the problems not listed. */
export const MORE_PROBLEMS_PATH = '(more)';

/** C0, DEL and C1 controls, zero-width and bidi marks, line/paragraph separators, bidi embeddings, overrides and isolates, BOM, lone surrogates. */
function isUnsafe(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x061c || (code >= 0x200b && code <= 0x200f)
    || (code >= 0x2028 && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0xfeff || (code >= 0xd800 && code <= 0xdfff);
}

const named: Readonly<Record<number, string>> = { 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };

function escapeOne(code: number): string {
  return named[code] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/**
 * `text` with every unsafe character shown escaped (`\n`, `\x1b`, `\u202e`), cut to at most `max`
 * characters ending in "…" when it is longer. Idempotent: bounding a bounded text changes nothing.
 * Only the part that can be shown is looked at, so a megabyte string costs no more than a short one.
 */
export function boundText(text: string, max: number = problemLimits.textChars): string {
  let out = '';
  let index = 0;
  while (index < text.length) {
    const code = text.codePointAt(index) ?? 0;
    const char = isUnsafe(code) ? escapeOne(code) : String.fromCodePoint(code);
    if (out.length + char.length > max) return `${cutTo(out, max - 1)}…`;
    out += char;
    index += code > 0xffff ? 2 : 1;
  }
  return out;
}

/** `text` (already escaped) cut to at most `max` UTF-16 units without splitting a surrogate pair. */
function cutTo(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

const plainKey = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A field path as users read it: `spec.services[1].dependsOn[0]`; a key that is not a plain name is
 * quoted (`metadata.labels["app.kubernetes.io/name"]`), escaped and cut, and the whole path is cut to
 * `problemLimits.textChars`. The empty path is `(root)`.
 */
export function formatProblemPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (out.length > problemLimits.textChars) break;
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const name = String(key);
      if (plainKey.test(name) && name.length <= problemLimits.keyChars) out += out === '' ? name : `.${name}`;
      else out += `["${boundText(name.slice(0, problemLimits.keyChars + 1).replace(/["\\]/g, '\\$&'), problemLimits.keyChars)}"]`;
    }
  }
  return out === '' ? '(root)' : boundText(out);
}

/** A problem with its path and message bounded (a path or message that is not text, or empty, gets a stand-in). */
export function boundProblem(problem: ContractIssue): ContractIssue {
  const text = (value: unknown, otherwise: string): string => (typeof value === 'string' && value !== '' ? boundText(value) : otherwise);
  return { path: text(problem.path, '(root)'), message: text(problem.message, 'invalid') };
}

/**
 * At most `problemLimits.listed` bounded problems: the first ones as given and, when there were more,
 * a last entry `(more): and N more problems`. Idempotent: a list it made passes through unchanged.
 */
export function boundProblems(problems: readonly ContractIssue[], total: number = problems.length): ContractIssue[] {
  const max = problemLimits.listed;
  if (total <= max && problems.length === total) return problems.map(boundProblem);
  const shown = problems.slice(0, max - 1).map(boundProblem);
  return [...shown, { path: MORE_PROBLEMS_PATH, message: `and ${total - shown.length} more problem(s) not listed` }];
}

type Issue = z.core.$ZodIssue;

/** The problems of one zod issue: one per unknown key, the inner message of an invalid record key. */
function* problemsOf(issue: Issue): Generator<ContractIssue> {
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) yield { path: formatProblemPath([...issue.path, key]), message: 'unknown field' };
  } else if (issue.code === 'invalid_key') {
    yield { path: formatProblemPath(issue.path), message: issue.issues[0]?.message ?? issue.message };
  } else {
    yield { path: formatProblemPath(issue.path), message: issue.message };
  }
}

/** The bounded problems of zod issues (see {@link boundProblems}); only the listed ones are formatted. */
export function problemsFromIssues(issues: readonly Issue[]): ContractIssue[] {
  const listed: ContractIssue[] = [];
  let total = 0;
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys' && listed.length >= problemLimits.listed) {
      total += issue.keys.length;
      continue;
    }
    for (const problem of problemsOf(issue)) {
      total += 1;
      if (listed.length < problemLimits.listed) listed.push(problem);
    }
  }
  return boundProblems(listed, total);
}
