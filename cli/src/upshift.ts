/** The `upshift` command line: dispatches to a command from the table in commands.ts. */
import { commands, EXIT, helpText } from './commands.ts';
import { applyContext } from './context.ts';
import { describeError } from './error-text.ts';
import { line } from './escape.ts';
import { runVersion } from './version.ts';

export { describeError } from './error-text.ts';

/** `upshift help [<command>]`: the overview, or one command's usage (on stdout, exit 0). */
function runHelp(topic: string | undefined): number {
  if (topic === undefined) {
    process.stdout.write(helpText());
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === topic);
  if (!command) {
    process.stderr.write(`${line(`upshift help: unknown command "${topic}"`)}\n${helpText()}`);
    return EXIT.usage;
  }
  process.stdout.write(command.usage);
  return EXIT.ok;
}

/**
 * Runs the CLI with argv (without node and script); returns the exit code. The context file's endpoints
 * fill in the variables that are not set before any command reads them (flags > variables > context).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(helpText());
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') return runHelp(name === 'help' ? rest[0] : undefined);
  if (name === '--version') return runVersion(rest);
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`${line(`upshift: unknown ${name.startsWith('-') ? 'option' : 'command'} "${name}"`)}\n${helpText()}`);
    return EXIT.usage;
  }
  if (command.run === undefined) {
    process.stderr.write(`upshift ${name}: not built yet\n`);
    return EXIT.failed;
  }
  const contextProblem = applyContext();
  if (contextProblem) process.stderr.write(line(`upshift: ignoring the context file: ${contextProblem}`));
  try {
    return await command.run(rest);
  } catch (error) {
    process.stderr.write(line(`upshift ${name}: ${describeError(error)}`));
    return EXIT.failed;
  }
}

/**
 * kafkajs 2.2 schedules a timer with a negative delay on Node >= 23 (TimeoutNegativeWarning,
 * harmless: Node clamps it to 1 ms); keep it out of the CLI's stderr, pass every other warning on.
 */
export function quietKafkajsTimerWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
}

if (import.meta.main) {
  quietKafkajsTimerWarning();
  process.exitCode = await main(process.argv.slice(2));
}
