/**
 * Parsing an UpgradePolicy from YAML or a value into either the policy or its problems with their field
 * paths. Never throws for bad input: a user's mistake is data, not an exception. The work is bounded
 * before anything walks the input (the document's size, YAML alias expansions), and the problems are
 * bounded too (problems.ts), so any request, however large or hostile, gets a short answer.
 */
import { parseAllDocuments } from 'yaml';
import type { ContractIssue } from '../errors.ts';
import { formatBytes, policyLimits } from './limits.ts';
import { boundProblems, boundText, problemsFromIssues } from './problems.ts';
import { UpgradePolicy } from './schema.ts';
import { jsonBytesWithin } from './size.ts';

/** The outcome of parsing a policy: the policy, or its problems (`path` like `spec.services[0].image`), at most `problemLimits.listed`. */
export type PolicyResult = { readonly ok: true; readonly policy: UpgradePolicy } | { readonly ok: false; readonly problems: readonly ContractIssue[] };

function rejected(path: string, message: string): PolicyResult {
  return { ok: false, problems: [{ path, message: boundText(message) }] };
}

/** Validates a policy value (already parsed from YAML/JSON). */
export function parsePolicy(value: unknown): PolicyResult {
  return validate(value, '');
}

function validate(value: unknown, expanded: string): PolicyResult {
  try {
    if (jsonBytesWithin(value, policyLimits.documentBytes) === undefined) {
      return rejected('(root)', `the policy is larger than ${formatBytes(policyLimits.documentBytes)} as JSON${expanded}; split the upgrade into smaller requests`);
    }
    const result = UpgradePolicy.safeParse(value);
    if (result.success) return { ok: true, policy: result.data };
    return { ok: false, problems: problemsFromIssues(result.error.issues) };
  } catch (err) {
    return rejected('(root)', `the policy could not be validated: ${messageOf(err)}`);
  }
}

/** Parses and validates a policy from YAML text (one document); YAML syntax errors carry their line. */
export function parsePolicyYaml(text: string): PolicyResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > policyLimits.documentBytes) {
    return rejected('(yaml)', `the document is ${bytes} bytes; at most ${formatBytes(policyLimits.documentBytes)}`);
  }
  let value: unknown;
  try {
    const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
    if (!Array.isArray(documents)) return rejected('(root)', 'empty document');
    if (documents.length !== 1) return rejected('(root)', `expected one YAML document, found ${documents.length}`);
    const [document] = documents;
    if (document === undefined) return rejected('(root)', 'empty document');
    if (document.errors.length > 0) {
      return { ok: false, problems: boundProblems(document.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message }))) };
    }
    value = document.toJS({ maxAliasCount: policyLimits.yamlAliases });
  } catch (err) {
    return rejected('(yaml)', yamlFailure(err));
  }
  return validate(value, ' once its YAML aliases are expanded');
}

/** Why the YAML could not be turned into a value; an alias bomb is named as such. */
function yamlFailure(err: unknown): string {
  const message = messageOf(err);
  if (/alias count|resource exhaustion/i.test(message)) {
    return `YAML aliases expand too far (more than ${policyLimits.yamlAliases} alias expansions): refused as an alias bomb; write the repeated parts out`;
  }
  if (err instanceof RangeError) return 'the YAML is nested too deeply to read';
  return `the YAML could not be read: ${message}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Thrown by producers given an invalid policy; carries its problems (bounded, see PolicyResult). */
export class PolicyInvalid extends Error {
  /** The field problems, at most `problemLimits.listed`. */
  readonly problems: readonly ContractIssue[];

  constructor(problems: readonly ContractIssue[]) {
    const bounded = boundProblems(problems);
    super(`invalid UpgradePolicy: ${bounded.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'PolicyInvalid';
    this.problems = bounded;
  }
}
