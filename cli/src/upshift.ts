/** The `upshift` command line: dispatches to a command from the table in commands.ts. */
import { commands, EXIT, helpText } from './commands.ts';
import { describeError } from './error-text.ts';
import { line } from './escape.ts';

export { describeError } from './error-text.ts';

/** Runs the CLI with argv (without node and script); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(helpText());
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(helpText());
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`${line(`upshift: unknown command "${name}"`)}\n${helpText()}`);
    return EXIT.usage;
  }
  if (command.run === undefined) {
    process.stderr.write(`upshift ${name}: not built yet\n`);
    return EXIT.failed;
  }
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
