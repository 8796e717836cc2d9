/**
 * The files the page is made of, read once at start into memory: the page's own scripts and styles
 * (src/public/) and the libraries' ESM builds straight from node_modules (no build step), under fixed
 * names — a request can only name a file of this table, never a path. The image's bundle carries copies
 * of the same files beside itself (see UPSHIFT_BUNDLED_ASSETS).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A file served as is. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const types: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
};

function typeOf(name: string): string {
  return types[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/** The libraries the page imports, by the name it imports them under (the import map maps one to the other). */
const vendorFiles: Readonly<Record<string, string>> = {
  'preact.mjs': 'preact',
  'preact-hooks.mjs': 'preact/hooks',
  'htm.mjs': 'htm',
  'uplot.mjs': 'uplot/dist/uPlot.esm.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
};

/** The import map of the page: bare specifiers of the libraries to their /vendor/ URLs. */
export const importMap = JSON.stringify({
  imports: { preact: '/vendor/preact.mjs', 'preact/hooks': '/vendor/preact-hooks.mjs', htm: '/vendor/htm.mjs', uplot: '/vendor/uplot.mjs' },
});

/**
 * Set only in the image's bundle (knative/src/dashboard-bundle.ts, an esbuild `define`): the folder, relative
 * to the bundle, where the build copied every file of assetSources() under its URL path.
 */
declare const UPSHIFT_BUNDLED_ASSETS: string | undefined;

/** Where each servable file is read from, by URL path (`/static/app.js`, `/vendor/preact.mjs`). */
export function assetSources(): ReadonlyMap<string, string> {
  if (typeof UPSHIFT_BUNDLED_ASSETS === 'string') return bundledSources(new URL(UPSHIFT_BUNDLED_ASSETS, import.meta.url));
  const sources = new Map<string, string>();
  const publicDir = fileURLToPath(new URL('../public/', import.meta.url));
  for (const name of readdirSync(publicDir)) {
    if (/^[a-z0-9-]+\.(js|css|svg)$/.test(name)) sources.set(`/static/${name}`, `${publicDir}${name}`);
  }
  for (const [name, specifier] of Object.entries(vendorFiles)) sources.set(`/vendor/${name}`, fileURLToPath(import.meta.resolve(specifier)));
  return sources;
}

/** The files a bundle carries: `<dir>/static/*` and `<dir>/vendor/*`. */
function bundledSources(dir: URL): ReadonlyMap<string, string> {
  const sources = new Map<string, string>();
  for (const folder of ['static', 'vendor']) {
    const path = fileURLToPath(new URL(`${folder}/`, dir));
    for (const name of readdirSync(path)) sources.set(`/${folder}/${name}`, `${path}${name}`);
  }
  return sources;
}

/** Every servable file by URL path, read into memory. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [urlPath, file] of assetSources()) assets.set(urlPath, { type: typeOf(urlPath), body: readFileSync(file) });
  return assets;
}
