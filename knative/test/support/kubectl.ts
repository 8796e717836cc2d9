/**
 * kubectl and kustomize for the knative tests, on the stack's clusters: the stack's kubectl binary and
 * kubeconfig (from the environment, else from `node stack/src/cli.ts env`), builds parsed into objects.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A Kubernetes object as kustomize emits it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

let cached: Record<string, string> | undefined;

/** KUBECONFIG and UPSHIFT_KUBECTL of the stack. */
export function kubeEnv(): { KUBECONFIG: string; UPSHIFT_KUBECTL: string } {
  if (!cached) {
    cached = {};
    if (!process.env['KUBECONFIG'] || !process.env['UPSHIFT_KUBECTL']) {
      const text = execFileSync(process.execPath, ['stack/src/cli.ts', 'env'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const match of text.matchAll(/^export (\w+)='([^']*)'$/gm)) cached[match[1]!] = match[2]!;
    }
    for (const name of ['KUBECONFIG', 'UPSHIFT_KUBECTL']) if (process.env[name]) cached[name] = process.env[name]!;
  }
  const { KUBECONFIG, UPSHIFT_KUBECTL } = cached;
  if (!KUBECONFIG || !UPSHIFT_KUBECTL) throw new Error('KUBECONFIG/UPSHIFT_KUBECTL unknown: start the stack (node stack/src/cli.ts up)');
  process.env['KUBECONFIG'] = KUBECONFIG;
  return { KUBECONFIG, UPSHIFT_KUBECTL };
}

/** What a kubectl run printed, and whether it succeeded. */
export interface KubectlResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl with `args` (never throws; 60 s limit). */
export function kubectl(args: readonly string[], input?: string): Promise<KubectlResult> {
  const { KUBECONFIG, UPSHIFT_KUBECTL } = kubeEnv();
  return new Promise((resolve) => {
    const child = execFile(UPSHIFT_KUBECTL, [...args], { env: { ...process.env, KUBECONFIG }, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `kubectl kustomize <dir>` parsed into objects (dir relative to the repository root). */
export async function kustomize(dir: string): Promise<KubeObject[]> {
  const result = await kubectl(['kustomize', `${repoRoot}${dir}`]);
  if (!result.ok) throw new Error(`kustomize ${dir} failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((doc) => doc.toJS() as KubeObject).filter(Boolean);
}

/** The objects of one kind. */
export function ofKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** A unique lowercase suffix for names of this test run. */
export function unique(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
}
