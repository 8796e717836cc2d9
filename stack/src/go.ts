import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Environment of every Go step: never fetch another toolchain, build static binaries. */
export const goEnv: Record<string, string> = { GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };

/** What `go mod download -json` reports for one module version. */
export interface DownloadedModule {
  Path: string;
  Version: string;
  Dir: string;
  GoMod: string;
  Error?: string;
}

/** Downloads module@version into the Go module cache (from the proxy) and returns where it landed. */
export async function goModDownload(modulePath: string, version: string, cwd: string): Promise<DownloadedModule> {
  const target = `${modulePath}@${version}`;
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('go', ['mod', 'download', '-json', target], {
      cwd,
      env: { ...process.env, ...goEnv },
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? '';
    throw new Error(`go mod download ${target} failed: ${output || String(error)}`);
  }
  const info = JSON.parse(stdout) as DownloadedModule;
  if (info.Error) throw new Error(`go mod download ${target}: ${info.Error}`);
  return info;
}

/** The -ldflags that stamp the Kubernetes version into client-go and component-base, as upstream's build does. */
export function kubernetesVersionLdflags(version: string): string {
  const [major = '1', minor = '0'] = version.replace(/^v/, '').split('.');
  const flags = ['-s', '-w'];
  for (const pkg of ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version']) {
    flags.push(
      `-X ${pkg}.gitVersion=${version}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
    );
  }
  return flags.join(' ');
}
