/** Argument parsing shared by the `upshift` commands: --help prints the usage, a usage error exits 2. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Prints `message` and the command's usage on stderr; returns exit code 2. */
export function usageError(command: string, usage: string, message: string): number {
  process.stderr.write(`upshift ${command}: ${message}\n\n${usage}`);
  return 2;
}

/** Parses `args` strictly; returns the exit code instead when --help was asked for or the arguments are wrong. */
export function parseCommand<const O extends Options>(command: string, usage: string, args: readonly string[], options: O) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    return usageError(command, usage, (error as Error).message);
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}
