/**
 * `npm run build` (after the type check): bundles every function that has a src/index.ts into
 * dist/<fn>/ for the Dockerfile. Functions without a module yet are named, not silently skipped;
 * `--function <fn>` bundles one (the Dockerfile's build stage) and fails if it has no module.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleFunction, functionModule } from './src/bundle.ts';
import { functionNames } from './src/spec.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: { function: { type: 'string' } } });
const wanted = values.function === undefined ? functionNames : functionNames.filter((fn) => fn === values.function);
if (wanted.length === 0) throw new Error(`unknown function ${values.function ?? ''} (one of ${functionNames.join(', ')})`);
const present = wanted.filter((fn) => existsSync(join(repoRoot, functionModule(fn))));
const missing = wanted.filter((fn) => !present.includes(fn));

for (const fn of present) {
  const started = Date.now();
  const outdir = await bundleFunction(repoRoot, fn);
  process.stdout.write(`bundled ${fn} → ${outdir} (${Date.now() - started} ms)\n`);
}
if (missing.length > 0) process.stdout.write(`not bundled (no src/index.ts yet): ${missing.join(', ')}\n`);
if (values.function !== undefined && present.length === 0) process.exitCode = 1;
