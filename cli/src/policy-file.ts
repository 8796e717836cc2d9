/** Reading an UpgradePolicy file for `request` and `validate`: a path, or `-` for stdin. */
import { readFileSync } from 'node:fs';
import { parsePolicyYaml, type ContractIssue, type UpgradePolicy } from '@upshift/events';
import { line } from './escape.ts';

/** The policy of `path` (`-`: stdin), or every problem with it (a file that cannot be read is one). */
export function readPolicy(path: string): { policy: UpgradePolicy } | { problems: readonly ContractIssue[] } {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    return { problems: [{ path: '(file)', message: `cannot read ${path === '-' ? 'stdin' : path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] };
  }
  const result = parsePolicyYaml(text);
  return result.ok ? { policy: result.policy } : { problems: result.problems };
}

/** How a policy file is named in messages: its path, or `(stdin)`. */
export function policyLabel(path: string): string {
  return path === '-' ? '(stdin)' : path;
}

/**
 * What `upshift request` and `validate` print for a policy that does not validate: a header and one
 * line per problem. Paths and messages quote the file (a key may hold any character), so each line is escaped.
 */
export function invalidPolicyText(file: string, problems: readonly ContractIssue[]): string {
  return [
    line(`${file}: invalid UpgradePolicy (${problems.length} problem${problems.length === 1 ? '' : 's'})`),
    ...problems.map((p) => line(`  ${p.path}: ${p.message}`)),
  ].join('');
}
