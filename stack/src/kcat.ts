/**
 * kcat, the Kafka command-line client the CloudEvents interop tests drive (events/test/kafka.test.ts):
 * installed with the Kafka component so those tests run wherever `npm test` does. From PATH when there,
 * else from Debian's package when running as root (as PostgreSQL is); otherwise `up` stops naming it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runDirFor } from './paths.ts';
import { run } from './run.ts';

const asRoot = process.getuid?.() === 0;

/** kcat's version line, or undefined when no working kcat is on PATH. */
export function kcatVersion(): string | undefined {
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? probe.stdout.split('\n')[0]?.trim() : undefined;
}

/** Makes sure kcat is on PATH: installs Debian's `kcat` when missing (refreshing the package lists once if need be). */
export async function installKcat(): Promise<void> {
  if (kcatVersion()) return;
  if (!asRoot) throw new Error('kcat is missing and installing it needs root: apt-get install kcat (the Kafka interop tests run it)');
  const logTo = join(runDirFor('kafka'), 'install.log');
  const install = () => run('apt-get', ['install', '-y', '-q', 'kcat'], { logTo, what: 'installing kcat from apt', env: { DEBIAN_FRONTEND: 'noninteractive' } });
  await install().catch(async () => {
    await run('apt-get', ['update', '-q'], { logTo, what: 'refreshing the apt package lists' });
    await install();
  });
  if (!kcatVersion()) throw new Error(`kcat was installed but does not run; see ${logTo}`);
}
