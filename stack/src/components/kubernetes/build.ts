import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDirFor } from '../../paths.ts';
import { run } from '../../run.ts';
import { versions } from '../../versions.ts';
import { goEnv, goModDownload, kubernetesVersionLdflags } from '../../go.ts';
import { binaries, kubeBinary } from './layout.ts';

/** The Kubernetes programs the stack runs (kubectl for manifests and tests). */
export const kubernetesPrograms = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const;

/** Builds what is missing from the cache: etcd, the Kubernetes binaries, kwok. */
export async function buildAll(): Promise<void> {
  await buildEtcd();
  await buildKubernetes();
  await installKwok();
}

/** A go.mod for a throw-away module that only builds other modules' packages. */
function wrapperGoMod(moduleName: string, extra = '', goLine = 'go 1.26.0'): string {
  return `module upshift.local/${moduleName}\n\n${goLine}\n${extra}`;
}

/** A build-tagged file importing the packages, so `go mod tidy` keeps their dependencies. */
function toolsGo(packages: string[]): string {
  const imports = packages.map((pkg) => `\t_ "${pkg}"`).join('\n');
  return `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`;
}

/**
 * k8s.io/kubernetes maps its staging modules (k8s.io/api, client-go, ...) to ./staging/... in its go.mod,
 * which `go install` rejects; the wrapper replaces each with its published v0.X.Y twin.
 */
export function kubernetesWrapperGoMod(upstreamGoMod: string, version: string): string {
  const stagingVersion = version.replace(/^v1\./, 'v0.');
  const staging = [...upstreamGoMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
  if (staging.length === 0) throw new Error(`kubernetes ${version}: no staging replace lines found in its go.mod`);
  const goLine = /^go .*$/m.exec(upstreamGoMod)?.[0];
  const godebug = /^godebug .*$/m.exec(upstreamGoMod)?.[0] ?? '';
  const replaces = staging.map((mod) => `\t${mod} => ${mod} ${stagingVersion}`).join('\n');
  const extra = `\n${godebug}\n\nrequire k8s.io/kubernetes ${version}\n\nreplace (\n${replaces}\n)\n`;
  return wrapperGoMod('kubebuild', extra, goLine);
}

/** Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from the Go module proxy. */
export async function buildKubernetes(): Promise<void> {
  if (kubernetesPrograms.every((program) => existsSync(kubeBinary(program)))) return;
  const cacheDir = cacheDirFor('kubernetes', versions.kubernetes);
  const moduleDir = join(cacheDir, 'module');
  const logTo = join(cacheDir, 'build.log');
  mkdirSync(moduleDir, { recursive: true });
  const upstream = await goModDownload('k8s.io/kubernetes', versions.kubernetes, cacheDir);
  writeFileSync(join(moduleDir, 'go.mod'), kubernetesWrapperGoMod(readFileSync(upstream.GoMod, 'utf8'), versions.kubernetes));
  const packages = kubernetesPrograms.map((program) => `k8s.io/kubernetes/cmd/${program}`);
  writeFileSync(join(moduleDir, 'tools.go'), toolsGo(packages));
  const opts = { cwd: moduleDir, env: goEnv, logTo };
  await run('go', ['mod', 'tidy'], { ...opts, what: `kubernetes: resolving ${versions.kubernetes} modules` });
  await run(
    'go',
    ['build', '-trimpath', '-ldflags', kubernetesVersionLdflags(versions.kubernetes), '-o', `${binaries.kubernetesDir}/`, ...packages],
    { ...opts, what: `kubernetes: building ${kubernetesPrograms.join(', ')} ${versions.kubernetes} (15-30 min cold)` },
  );
}

/** Builds etcd (its main package is the server module's root) from a wrapper module. */
export async function buildEtcd(): Promise<void> {
  if (existsSync(binaries.etcd)) return;
  const cacheDir = cacheDirFor('etcd', versions.etcd);
  const moduleDir = join(cacheDir, 'module');
  const logTo = join(cacheDir, 'build.log');
  mkdirSync(moduleDir, { recursive: true });
  writeFileSync(join(moduleDir, 'go.mod'), wrapperGoMod('etcdbuild'));
  writeFileSync(join(moduleDir, 'tools.go'), toolsGo(['go.etcd.io/etcd/server/v3']));
  const opts = { cwd: moduleDir, env: goEnv, logTo };
  await run('go', ['get', `go.etcd.io/etcd/server/v3@${versions.etcd}`], { ...opts, what: `etcd: resolving ${versions.etcd}` });
  await run('go', ['mod', 'tidy'], { ...opts, what: 'etcd: tidying modules' });
  await run('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', binaries.etcd, 'go.etcd.io/etcd/server/v3'], {
    ...opts,
    what: `etcd: building ${versions.etcd}`,
  });
}

/** Installs kwok with `go install` into its cache folder. */
export async function installKwok(): Promise<void> {
  if (existsSync(binaries.kwok)) return;
  const cacheDir = cacheDirFor('kwok', versions.kwok);
  mkdirSync(cacheDir, { recursive: true });
  await run('go', ['install', `sigs.k8s.io/kwok/cmd/kwok@${versions.kwok}`], {
    cwd: cacheDir,
    env: { ...goEnv, GOBIN: join(cacheDir, 'bin') },
    logTo: join(cacheDir, 'build.log'),
    what: `kwok: building ${versions.kwok}`,
  });
}
