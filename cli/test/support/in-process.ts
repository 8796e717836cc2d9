/**
 * Test support: the CLI's `main` run in this process with stdout and stderr captured, for checks that
 * sweep every command (spawning dozens of processes would take minutes on a loaded machine); the
 * spawned bin covers a sample of the same behaviours. The context file is kept out (UPSHIFT_CONTEXT).
 */
import { main } from '../../src/upshift.ts';
import type { Outcome } from './run.ts';

/** Runs `upshift <args>` in this process; one at a time (the streams are swapped while it runs). */
export async function upshiftInProcess(args: readonly string[]): Promise<Outcome> {
  process.env.UPSHIFT_CONTEXT ??= '/nonexistent/upshift-test-context.json';
  const out = process.stdout.write;
  const err = process.stderr.write;
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += chunk.toString(); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += chunk.toString(); return true; }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
