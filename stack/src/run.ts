import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { progress } from './progress.ts';

/** Options of a build or install step run by the stack. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Output goes here (appended) instead of the terminal; the error message names it. */
  logTo: string;
  /** What is happening, shown with elapsed time while the step runs. */
  what: string;
}

/** Runs one build/install command with a progress line every 15 s; rejects with the log's tail on failure. */
export async function run(command: string, args: string[], opts: RunOptions): Promise<void> {
  mkdirSync(dirname(opts.logTo), { recursive: true });
  appendFileSync(opts.logTo, `\n$ ${command} ${args.join(' ')}\n`);
  const started = Date.now();
  const stop = progress.start(opts.what);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (chunk: Buffer) => appendFileSync(opts.logTo, chunk));
      child.stderr.on('data', (chunk: Buffer) => appendFileSync(opts.logTo, chunk));
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`${opts.what}: '${command} ${args.join(' ')}' exited with ${code}; see ${opts.logTo}`));
      });
    });
  } finally {
    stop((Date.now() - started) / 1000);
  }
}
