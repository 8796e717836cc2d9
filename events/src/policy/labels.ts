/**
 * Kubernetes label rules (apimachinery `IsQualifiedName` and `IsValidLabelValue`): a key is an optional
 * DNS-1123 subdomain prefix (at most 253 characters) and "/", then a name of at most 63 characters; a
 * value is empty or a name-shaped string of at most 63. Nothing else: no control characters, spaces
 * or a second "/".
 */

const labelName = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const dnsSubdomain = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*';

/** A label key: `[prefix/]name`. The prefix's length is checked by {@link labelKeyProblem}. */
export const LabelKeyPattern = new RegExp(`^(?:${dnsSubdomain}/)?${labelName}$`);

/** A label value: empty, or a name of at most 63 characters. */
export const LabelValuePattern = new RegExp(`^(?:${labelName})?$`);

/** What a regex cannot say about a key matching {@link LabelKeyPattern}: a prefix longer than 253 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash > 253) return 'must be a label key whose prefix is at most 253 characters';
  return undefined;
}
