/**
 * The dashboard's production bundle, `dist/dashboard/` (the Dockerfile's FUNCTION=dashboard): one
 * dashboard.mjs (dashboard-entry.ts, no code splitting), the pg and kafkajs it leaves external, and the
 * page's files under assets/ by URL path — the page's scripts and the preact, htm and uPlot builds that the
 * repository serves from src/public and node_modules — which the bundled assets.ts reads from beside itself.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assetSources } from '../../dashboard/src/http/assets.ts';
import { bundleEntries } from './bundle.ts';

/** The image (and dist/ folder) name of the dashboard, next to the functions'. */
export const dashboardBundleName = 'dashboard';

/** The folder beside dashboard.mjs holding the page's files. */
const assetsFolder = 'assets';

/** Bundles the dashboard into `<outRoot>/dashboard/`; returns the output folder. */
export async function bundleDashboard(repoRoot: string, outRoot = join(repoRoot, 'dist')): Promise<string> {
  const outdir = await bundleEntries(repoRoot, {
    name: dashboardBundleName, outRoot, splitting: false,
    entryPoints: { dashboard: 'knative/src/dashboard-entry.ts' },
    nodeArgs: ['--enable-source-maps', './dashboard.mjs'],
    define: { UPSHIFT_BUNDLED_ASSETS: JSON.stringify(`./${assetsFolder}/`) },
  });
  for (const [urlPath, file] of assetSources()) {
    const target = join(outdir, assetsFolder, urlPath);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target, { dereference: true });
  }
  return outdir;
}
