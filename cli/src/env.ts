/**
 * `upshift env`: the `export` lines of the endpoints this CLI uses — the context file's variables (the
 * local stack records them when it comes up), each with the value in effect (a variable already set wins).
 * `eval "$(node cli/bin/upshift.js env)"` works with any Node on PATH (the bin re-runs itself on Node 24).
 */
import { parseCommand } from './args.ts';
import { contextPath, readContext } from './context.ts';

/** Usage of `upshift env`. */
export const envUsage = `Usage: upshift env [--unset]

  Prints 'export NAME=value' lines for the endpoints in the context file (eval it in a shell):
  eval "$(node cli/bin/upshift.js env)"
  The local stack writes the file when it comes up (npm run stack:up); a variable already set keeps its value.
  File: $UPSHIFT_CONTEXT, else $XDG_CONFIG_HOME/upshift/context.json (default ~/.config).
  --unset   print 'unset NAME' lines instead
`;

const options = {
  unset: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** A value quoted for a POSIX shell: single quotes, with each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** Runs `upshift env`; returns the exit code. */
export async function runEnv(args: readonly string[]): Promise<number> {
  const parsed = parseCommand('env', envUsage, args, options);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length > 0) {
    process.stderr.write(`upshift env: takes no arguments\n${envUsage}`);
    return 2;
  }
  const path = contextPath();
  const { context, problem } = readContext(path);
  if (!context) {
    process.stderr.write(`upshift env: ${problem ?? `no context file at ${path}: start the local stack (npm run stack:up) or set UPSHIFT_CONTEXT`}\n`);
    return 1;
  }
  for (const name of Object.keys(context.env).sort()) {
    process.stdout.write(parsed.values.unset ? `unset ${name}\n` : `export ${name}=${shellQuote(process.env[name] ?? context.env[name] ?? '')}\n`);
  }
  return 0;
}
