/**
 * The context file the local stack writes when it comes up (stack/src/context.ts): its endpoints
 * (DATABASE_URL, KAFKA_BROKERS, KUBECONFIG, …). Every command reads it as the lowest-priority default,
 * as kubectl reads its current context: a flag wins over a variable, a variable over the context file.
 * Path: `$UPSHIFT_CONTEXT`, else `$XDG_CONFIG_HOME/upshift/context.json` (default `~/.config`).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** The file: a name, when it was written, and the variables it provides. */
export const ContextFile = z.object({
  version: z.literal(1),
  name: z.string().max(200).default('local-stack'),
  writtenAt: z.string().optional(),
  env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]{0,99}$/), z.string().max(4000)),
});
/** A parsed context file. */
export type ContextFile = z.infer<typeof ContextFile>;

/** Where the context file is looked for. */
export function contextPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.UPSHIFT_CONTEXT || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'upshift', 'context.json');
}

/** The context file, `undefined` when there is none; a file that is not a context is a problem (named, never fatal). */
export function readContext(path: string): { context?: ContextFile; problem?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { problem: `cannot read ${path}: ${code ?? String(error)}` };
  }
  try {
    const parsed = ContextFile.safeParse(JSON.parse(text));
    if (parsed.success) return { context: parsed.data };
    return { problem: `${path}: not an upshift context file (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})` };
  } catch (error) {
    return { problem: `${path}: not JSON (${(error as Error).message})` };
  }
}

/** The variables in effect: the context file's values under the environment's own, even empty ones (pure). */
export function withContext(env: Readonly<NodeJS.ProcessEnv>, context: ContextFile | undefined): NodeJS.ProcessEnv {
  return { ...context?.env, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) };
}

/**
 * Fills the variables this process has not set from the context file, so every command's
 * "flag, else variable" lookups fall back to it. Returns a problem with the file, if any.
 */
export function applyContext(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { context, problem } = readContext(contextPath(env));
  for (const [key, value] of Object.entries(context?.env ?? {})) {
    if (env[key] === undefined) env[key] = value; // set, even to '', the variable wins
  }
  return problem;
}
