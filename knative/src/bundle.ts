/**
 * Production bundles: `dist/<fn>/` holds one self-contained tree per function that the Dockerfile
 * copies as is — entry.mjs (the runtime's process entry), function.mjs (the function module),
 * preload.mjs (telemetry), shared chunks (code splitting, so the runtime is loaded once), and a
 * node_modules with only the packages left external. Those stay external on purpose: OpenTelemetry
 * instruments pg and kafkajs by hooking their module loads, which a bundled copy would bypass, and
 * the loader hook it registers must be a real file. start.sh says how node runs the bundle: the
 * Dockerfile's one ENTRYPOINT runs it, so the dashboard's bundle (dashboard-bundle.ts) starts its own way.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import type { FunctionName } from '@upshift/events/contract';

/**
 * Packages resolved at run time from dist/<fn>/node_modules instead of being bundled. libpg-query (the
 * catalog's SQL parser) loads its .wasm file from beside its own module, which a bundled copy would lose.
 */
export const externalPackages = [
  'pg', 'kafkajs', '@opentelemetry/api', '@opentelemetry/instrumentation', 'import-in-the-middle', 'require-in-the-middle',
  'libpg-query',
] as const;

/**
 * Optional native/cloud add-ons of the mongodb and pg drivers, loaded in try/catch: left external only
 * when not installed (an installed one, like `socks` for the Kubernetes client's proxy agent, is bundled).
 */
const optionalAddons = [
  'pg-native', 'kerberos', 'snappy', 'socks', 'aws4', 'gcp-metadata', 'mongodb-client-encryption',
  '@mongodb-js/zstd', '@aws-sdk/credential-providers',
];

/** CommonJS dependencies bundled into ESM still call require() for Node built-ins. */
const requireShim = "import { createRequire as __upshiftCreateRequire } from 'node:module'; const require = __upshiftCreateRequire(import.meta.url);";

/** The module file of a function, relative to the repository root. */
export function functionModule(fn: FunctionName): string {
  return `functions/${fn}/src/index.ts`;
}

/** Bundles one function into `<outRoot>/<fn>/`; returns the output folder. */
export async function bundleFunction(repoRoot: string, fn: FunctionName, outRoot = join(repoRoot, 'dist')): Promise<string> {
  return bundleEntries(repoRoot, {
    name: fn, outRoot, splitting: true,
    entryPoints: { entry: '@upshift/runtime/host/entry', function: functionModule(fn), preload: '@upshift/runtime/telemetry/preload' },
    nodeArgs: ['--enable-source-maps', '--import', './preload.mjs', './entry.mjs', './function.mjs'],
  });
}

/** What one image's bundle is made of. */
export interface BundleSpec {
  /** The folder under `outRoot` (the Dockerfile's FUNCTION). */
  readonly name: string;
  readonly outRoot: string;
  /** Output name (without .mjs) → module, as esbuild takes them. */
  readonly entryPoints: Readonly<Record<string, string>>;
  /** How start.sh runs node, from the bundle's folder; the container's args follow. */
  readonly nodeArgs: readonly string[];
  /** Shared chunks between entry points (off: one file per entry, dynamic imports inlined). */
  readonly splitting: boolean;
  /** Compile-time constants (esbuild `define`). */
  readonly define?: Readonly<Record<string, string>>;
}

/** Bundles `spec` into `<outRoot>/<name>/` with its externals, package.json and start.sh; returns the folder. */
export async function bundleEntries(repoRoot: string, spec: BundleSpec): Promise<string> {
  const outdir = join(spec.outRoot, spec.name);
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: { ...spec.entryPoints }, define: { ...spec.define },
    outdir, bundle: true, splitting: spec.splitting, format: 'esm', platform: 'node', target: 'node24',
    outExtension: { '.js': '.mjs' }, chunkNames: 'chunks/[name]-[hash]',
    external: [...externalPackages, ...optionalAddons.filter((name) => !existsSync(join(repoRoot, 'node_modules', name)))], banner: { js: requireShim },
    sourcemap: 'linked', minifySyntax: true, minifyWhitespace: true, keepNames: true, legalComments: 'none',
    metafile: true, logLevel: 'warning',
  });
  copyExternals(repoRoot, outdir, usedExternals(result.metafile, 'preload' in spec.entryPoints));
  writeFileSync(join(outdir, 'package.json'), `${JSON.stringify({ name: `upshift-${spec.name}`, private: true, type: 'module', engines: { node: '>=24' } }, null, 2)}\n`);
  writeFileSync(join(outdir, startScript), startScriptText(spec.nodeArgs), { mode: 0o755 });
  return outdir;
}

/** The file the Dockerfile's ENTRYPOINT runs (`/bin/sh ./start.sh`), so one ENTRYPOINT starts every image. */
export const startScript = 'start.sh';

/** `exec node <args> "$@"`: node becomes PID 1's process (signals reach it), the container's args appended. */
function startScriptText(nodeArgs: readonly string[]): string {
  const quoted = nodeArgs.map((arg) => (/^[\w./=:@-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`));
  return `#!/bin/sh\n# Written by knative/build.ts: how this image starts (run from its folder, the WORKDIR).\nexec node ${quoted.join(' ')} "$@"\n`;
}

/** The external packages the bundle really imports (plus the instrumentation hook a preload registers). */
function usedExternals(metafile: Metafile, preloaded: boolean): string[] {
  const names = new Set<string>(preloaded ? ['@opentelemetry/instrumentation'] : []);
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue;
      const name = packageName(imported.path);
      if ((externalPackages as readonly string[]).includes(name)) names.add(name);
    }
  }
  return [...names].sort();
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Copies each package and its production dependency closure, mirroring node_modules nesting. */
function copyExternals(repoRoot: string, outdir: string, names: readonly string[]): void {
  const copied = new Set<string>();
  const visit = (name: string, fromDir: string, optional: boolean): void => {
    const dir = resolvePackageDir(repoRoot, name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new Error(`cannot find ${name} (needed from ${relative(repoRoot, fromDir) || '.'})`);
    }
    if (copied.has(dir)) return;
    copied.add(dir);
    const target = join(outdir, relative(repoRoot, dir));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(dir, target, { recursive: true, dereference: true, filter: (src) => src === dir || !src.startsWith(join(dir, 'node_modules')) });
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of names) visit(name, repoRoot, false);
}

/** Node's lookup: <dir>/node_modules/<name>, then each parent, not above the repository root. */
function resolvePackageDir(repoRoot: string, name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (relative(repoRoot, dir) === '' || dir === dirname(dir)) return undefined;
  }
}
