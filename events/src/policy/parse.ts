/**
 * Parsing an UpgradePolicy from YAML or a value into either the policy or every problem with its
 * field path. Never throws for bad input: a user's mistake is data, not an exception.
 */
import { parseAllDocuments } from 'yaml';
import { issuesFrom, type ContractIssue } from '../errors.ts';
import { UpgradePolicy } from './schema.ts';

/** The outcome of parsing a policy: the policy, or every problem (`path` like `spec.services[0].image`). */
export type PolicyResult = { readonly ok: true; readonly policy: UpgradePolicy } | { readonly ok: false; readonly problems: readonly ContractIssue[] };

/** Validates a policy value (already parsed from YAML/JSON). */
export function parsePolicy(value: unknown): PolicyResult {
  const result = UpgradePolicy.safeParse(value);
  if (result.success) return { ok: true, policy: result.data };
  return { ok: false, problems: issuesFrom(result.error) };
}

/** Parses and validates a policy from YAML text (one document); YAML syntax errors carry their line. */
export function parsePolicyYaml(text: string): PolicyResult {
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(documents)) return { ok: false, problems: [{ path: '(root)', message: 'empty document' }] };
  if (documents.length !== 1) return { ok: false, problems: [{ path: '(root)', message: `expected one YAML document, found ${documents.length}` }] };
  const [document] = documents;
  if (document === undefined) return { ok: false, problems: [{ path: '(root)', message: 'empty document' }] };
  if (document.errors.length > 0) {
    return { ok: false, problems: document.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })) };
  }
  return parsePolicy(document.toJS({ maxAliasCount: 50 }));
}

/** Thrown by producers given an invalid policy; carries every problem. */
export class PolicyInvalid extends Error {
  /** Every field problem. */
  readonly problems: readonly ContractIssue[];

  constructor(problems: readonly ContractIssue[]) {
    super(`invalid UpgradePolicy: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'PolicyInvalid';
    this.problems = problems;
  }
}
