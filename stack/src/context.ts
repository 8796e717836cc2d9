/**
 * The context file: where the local stack records its endpoints when it comes up (`up`, `env`), so the
 * `upshift` CLI finds them with nothing set, as kubectl finds its current context. Path:
 * `$UPSHIFT_CONTEXT`, else `$XDG_CONFIG_HOME/upshift/context.json` (default `~/.config`).
 * Format: `{ "version": 1, "name": "local-stack", "writtenAt": ISO time, "env": { NAME: value } }`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where the context file lives for this environment. */
export function contextPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.UPSHIFT_CONTEXT || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'upshift', 'context.json');
}

function recordedEnv(path: string): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { env?: unknown };
    return parsed.env && typeof parsed.env === 'object' ? { ...(parsed.env as Record<string, string>) } : {};
  } catch {
    return {};
  }
}

/**
 * Records `values` in the context file, keeping what other writers recorded (the demo adds its stores'
 * URLs); written to a temporary file and renamed, so a reader never sees half a file.
 */
export function recordContext(values: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv = process.env): string {
  const path = contextPath(env);
  mkdirSync(dirname(path), { recursive: true });
  const document = { version: 1, name: 'local-stack', writtenAt: new Date().toISOString(), env: { ...recordedEnv(path), ...values } };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
  return path;
}
