/**
 * `npm run build` (after the type check): bundles every function that has a src/index.ts, and the
 * dashboard, into dist/<name>/ for the Dockerfile. Functions without a module yet are named, not silently
 * skipped; `--function <name>` bundles one (the Dockerfile's build stage) and fails if it has no module.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleFunction, functionModule } from './src/bundle.ts';
import { bundleDashboard, dashboardBundleName } from './src/dashboard-bundle.ts';
import { functionNames } from './src/spec.ts';
import type { FunctionName } from '@upshift/events/contract';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: { function: { type: 'string' } } });
const names: readonly (FunctionName | typeof dashboardBundleName)[] = [...functionNames, dashboardBundleName];
const wanted = values.function === undefined ? names : names.filter((name) => name === values.function);
if (wanted.length === 0) throw new Error(`unknown function ${values.function ?? ''} (one of ${names.join(', ')})`);
const present = wanted.filter((name) => name === dashboardBundleName || existsSync(join(repoRoot, functionModule(name))));
const missing = wanted.filter((name) => !present.includes(name));

for (const name of present) {
  const started = Date.now();
  const outdir = name === dashboardBundleName ? await bundleDashboard(repoRoot) : await bundleFunction(repoRoot, name);
  process.stdout.write(`bundled ${name} → ${outdir} (${Date.now() - started} ms)\n`);
}
if (missing.length > 0) process.stdout.write(`not bundled (no src/index.ts yet): ${missing.join(', ')}\n`);
if (values.function !== undefined && present.length === 0) process.exitCode = 1;
