/** Test support: run the `upshift` bin as a child process and capture its output. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = new URL('../../bin/upshift.js', import.meta.url).pathname;

/** The example policy shipped in examples/. */
export const examplePolicy = new URL('../../../examples/policy.yaml', import.meta.url).pathname;

/**
 * The environment a test gives the CLI: without UPSHIFT_CONTEXT of its own, a context file that does not
 * exist, so the machine's ~/.config/upshift/context.json never fills in what a test left unset.
 */
export function hermetic(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.UPSHIFT_CONTEXT === undefined ? { ...env, UPSHIFT_CONTEXT: '/nonexistent/upshift-test-context.json' } : env;
}

/** Exit code and output of one upshift run. */
export interface Outcome { code: number | null; stdout: string; stderr: string }

/** Runs the upshift bin; `onStdout` sees stdout as it arrives (for --wait tests). */
export function upshift(args: readonly string[], env: NodeJS.ProcessEnv = process.env, onStdout?: (text: string) => void): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: hermetic(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); onStdout?.(stdout); });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Writes a policy to a fresh temporary file and returns its path. */
export function writePolicy(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'upshift-cli-')), 'policy.yaml');
  writeFileSync(path, text);
  return path;
}
