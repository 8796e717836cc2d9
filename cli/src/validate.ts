/**
 * `upshift validate <policy.yaml|->` (and `upshift request --dry-run`): the policy checked offline with
 * the same validation and messages as `request` (exit 0 valid, 2 invalid); `--connect` also runs plan's
 * read-only preflight (clusters reachable, workloads and containers exist, rollout's rights, migrations
 * in the catalog and their stores reachable and fitting) without publishing anything.
 */
import { fileURLToPath } from 'node:url';
import type { UpgradePolicy } from '@upshift/events';
import { parseCommand } from './args.ts';
import { stderrColours, stdoutColours } from './colour.ts';
import { line } from './escape.ts';
import { invalidPolicyText, policyLabel, readPolicy } from './policy-file.ts';

/** Usage of `upshift validate`. */
export const validateUsage = `Usage: upshift validate <policy.yaml|-> [--connect] [--catalog dir]

  Checks the policy offline, as \`upshift request\` does before publishing (every field problem with its path).
  -                read the policy from stdin
  --connect        also run plan's preflight, read-only: every cluster reachable, every workload and container
                   found, rollout allowed to get and patch them, every migration in the catalog, its store
                   reachable and its table/collection fitting it (store URLs from the variables the catalog
                   names, e.g. $SHOP_DATABASE_URL; clusters from $KUBECONFIG). Nothing is published or changed.
  --catalog dir    the migration catalog for --connect (default: $UPSHIFT_CATALOG_DIR, else examples/catalog)

Exit codes: 0 valid (and preflight passed), 2 invalid or preflight found problems, 1 preflight could not run.
`;

const options = {
  connect: { type: 'boolean', default: false },
  catalog: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The repository's example catalog: the default, as for the functions. */
const exampleCatalog = fileURLToPath(new URL('../../examples/catalog', import.meta.url));

/** One line saying what the policy asks for. */
function policySummary(policy: UpgradePolicy): string {
  const { clusters, services, migrations } = policy.spec;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  return `UpgradePolicy ${policy.metadata.name} (${count(services.length, 'service')}, ${count(clusters.length, 'cluster')}, ${count(migrations.length, 'migration')}${policy.spec.dryRun ? ', dry run' : ''})`;
}

/** Plan's preflight against the clusters and stores: every problem found (empty: go). */
async function preflightProblems(policy: UpgradePolicy, catalogDir: string) {
  const [{ preflight }, { catalogFrom }, { ClusterRegistry }] = await Promise.all([
    import('../../functions/plan/src/plan-run.ts'), import('../../functions/plan/src/adapters/catalog.ts'), import('@upshift/workloads'),
  ]);
  const rolloutIdentity = process.env.UPSHIFT_ROLLOUT_IDENTITY;
  const seen = await preflight(policy, { clusters: new ClusterRegistry(), catalog: catalogFrom(catalogDir), env: process.env, ...(rolloutIdentity ? { rolloutIdentity } : {}) });
  return { problems: seen.problems, workloads: seen.workloads.length, migrations: seen.migrations.length };
}

/** Validates a policy file (and preflights it with `connect`); prints the verdict; returns the exit code. */
export async function validatePolicyFile(path: string, settings: { connect: boolean; catalog?: string | undefined }): Promise<number> {
  const label = policyLabel(path);
  const read = readPolicy(path);
  if ('problems' in read) {
    process.stderr.write(invalidPolicyText(label, read.problems));
    return 2;
  }
  const ok = stdoutColours().green('valid');
  process.stdout.write(`${label}: ${ok} ${line(policySummary(read.policy))}`);
  if (!settings.connect) return 0;
  const found = await preflightProblems(read.policy, settings.catalog ?? process.env.UPSHIFT_CATALOG_DIR ?? exampleCatalog);
  if (found.problems.length > 0) {
    const failed = stderrColours().red('preflight failed');
    process.stderr.write(`${label}: ${failed} ${line(`(${found.problems.length} problem${found.problems.length === 1 ? '' : 's'}; nothing was changed)`)}`);
    for (const p of found.problems) process.stderr.write(line(`  ${p.path}: ${p.message}`));
    return 2;
  }
  const passed = stdoutColours().green('preflight passed');
  process.stdout.write(`${label}: ${passed}: ${line(`${read.policy.spec.clusters.length} cluster(s) reachable, ${found.workloads} workload(s) found and patchable, ${found.migrations} migration(s) ready`)}`);
  return 0;
}

/** Runs `upshift validate`; returns the exit code. */
export async function runValidate(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('validate', validateUsage, args, options);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [path] = positionals;
  if (positionals.length !== 1 || path === undefined) {
    process.stderr.write(`upshift validate: expected exactly one policy file (or - for stdin)\n${validateUsage}`);
    return 2;
  }
  return validatePolicyFile(path, { connect: values.connect, catalog: values.catalog });
}
