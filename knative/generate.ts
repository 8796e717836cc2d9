/**
 * `npm run knative:generate`: writes the kustomize base, RBAC, func-broker and every func.yaml from the
 * events catalogue (knative/src/render.ts). `--check` writes nothing and exits 1 naming stale files;
 * `--catalog <dir>` takes the migration catalog from another folder (default examples/catalog).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXAMPLE_CATALOG, renderAll, staleFiles, strayCatalogFiles } from './src/render.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false }, catalog: { type: 'string', default: EXAMPLE_CATALOG } } });
const rendered = renderAll(repoRoot, values.catalog);
const stale = staleFiles(repoRoot, rendered);

if (values.check) {
  if (stale.length > 0) {
    process.stderr.write(`out of date (run npm run knative:generate):\n${stale.map((path) => `  ${path}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`knative manifests are up to date (${Object.keys(rendered).length} files)\n`);
} else {
  for (const path of strayCatalogFiles(repoRoot, rendered)) rmSync(join(repoRoot, path));
  for (const [path, text] of Object.entries(rendered)) {
    mkdirSync(dirname(join(repoRoot, path)), { recursive: true });
    writeFileSync(join(repoRoot, path), text);
  }
  process.stdout.write(`wrote ${Object.keys(rendered).length} files (${stale.length} changed)\n`);
}
