/** Argument parsing shared by the `upshift` commands: --help prints the usage, a usage error exits 2. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HostConfig } from '@upshift/runtime';
import { line } from './escape.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Prints `message` and the command's usage on stderr; returns exit code 2. */
export function usageError(command: string, usage: string, message: string): number {
  process.stderr.write(`${line(`upshift ${command}: ${message}`)}\n${usage}`);
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

/**
 * The topic prefix of `--topic-prefix`, else of UPSHIFT_TOPIC_PREFIX, else none: the prefix the functions
 * use (they accept the same values), so a command sees the topics of that deployment, demo or test.
 */
export function topicPrefixOption(flag: string | undefined): string | { problem: string } {
  const value = flag ?? process.env.UPSHIFT_TOPIC_PREFIX ?? '';
  const checked = HostConfig.shape.UPSHIFT_TOPIC_PREFIX.safeParse(value);
  if (checked.success) return checked.data;
  return { problem: `${flag === undefined ? 'UPSHIFT_TOPIC_PREFIX' : '--topic-prefix'}: "${value}": ${checked.error.issues[0]?.message ?? 'not a topic prefix'}` };
}

/** The output formats of `-o` (kubectl's names): text (default), json, yaml, wide (text with more columns). */
export const outputFormats = ['text', 'json', 'yaml', 'wide'] as const;
/** One output format. */
export type OutputFormat = (typeof outputFormats)[number];

/** The format of `-o/--output` (`--json` is `-o json`); a problem message when it is not one of them. */
export function outputFormatOption(output: string | undefined, json: boolean): OutputFormat | { problem: string } {
  if (json && output !== undefined && output !== 'json') return { problem: `--json and -o ${output} disagree` };
  const format = json ? 'json' : output ?? 'text';
  return (outputFormats as readonly string[]).includes(format) ? format as OutputFormat : { problem: `-o must be one of json, yaml, wide, got "${format}"` };
}
