/**
 * The Dockerfile's ENTRYPOINT as the bundle tests run it: `/bin/sh ./start.sh` from the bundle's folder,
 * with the repository's Node 24 first on PATH where the image has its own node.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './kubectl.ts';

/** The command and arguments of the ENTRYPOINT, and the PATH that makes `node` the repository's Node 24. */
export function entrypoint(): { command: string; args: string[]; path: string } {
  const match = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  const [command, ...args] = JSON.parse(match?.[1] ?? '[]') as string[];
  assert.equal(command, '/bin/sh', 'the Dockerfile runs the start script the build wrote');
  return { command, args, path: `${join(repoRoot, 'node_modules/.bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
}
