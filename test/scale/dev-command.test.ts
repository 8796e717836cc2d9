/**
 * `upshift dev`'s command line: --help prints the usage (with --scale) on stdout and exits 0; an unknown
 * flag or a bad --scale is a usage error (exit 2, the reason and the usage on stderr) and starts nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const upshift = fileURLToPath(new URL('../../cli/bin/upshift.js', import.meta.url));

function dev(...args: string[]) {
  const result = spawnSync(process.execPath, [upshift, 'dev', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, UPSHIFT_DEV_SCALE: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('upshift dev --help: the usage on stdout, exit 0', () => {
  const { code, stdout, stderr } = dev('--help');
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: upshift dev .*--scale/);
  assert.match(stdout, /migrate-shard=4,rollout=2/);
  assert.equal(stderr, '');
});

for (const [args, reason] of [
  [['--nope'], /Unknown option '--nope'/],
  [['--scale', 'shard=2'], /--scale: "shard" is not a function/],
  [['--scale', 'migrate-shard=0'], /--scale: migrate-shard: instances must be 1 to 64/],
] as const) {
  test(`upshift dev ${args.join(' ')}: usage error, exit 2`, () => {
    const { code, stdout, stderr } = dev(...args);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, reason);
    assert.match(stderr, /Usage: upshift dev/);
  });
}
