#!/usr/bin/env node
// Launcher for the `upshift` bin: Node >= 24 runs the TypeScript source directly (type stripping).
// An older Node on PATH (the machines ship Node 20) re-runs this file with the Node 24 the repository pins
// (node_modules/node, the `node` devDependency), found from this file's folder upwards.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) process.exit(reexecWithPinnedNode());
const { main, quietKafkajsTimerWarning } = await import('../src/upshift.ts');
quietKafkajsTimerWarning();
process.exitCode = await main(process.argv.slice(2));

function pinnedNode() {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'node', 'bin', 'node');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function reexecWithPinnedNode() {
  const node = process.env.UPSHIFT_REEXEC ? undefined : pinnedNode();
  if (node === undefined) {
    process.stderr.write(`upshift needs Node.js >= 24 (found ${process.versions.node}); run it via npm/npx or put Node 24 first on PATH\n`);
    return 2;
  }
  const result = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, UPSHIFT_REEXEC: '1' } });
  if (result.signal) process.kill(process.pid, result.signal);
  return result.status ?? 1;
}
