/**
 * Colour for people, never for machines: on when stdout is a terminal, off with NO_COLOR (any value,
 * https://no-color.org), for TERM=dumb, and when stdout is a pipe or a file; FORCE_COLOR turns it on
 * off a terminal (picocolors' convention) but never past NO_COLOR or TERM=dumb.
 */
import picocolors from 'picocolors';

/** The picocolors functions, enabled or not. */
export type Colours = ReturnType<typeof picocolors.createColors>;

/** Whether a stream may carry colour under `env` (pure). */
export function colourEnabled(env: Readonly<NodeJS.ProcessEnv>, isTty: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return isTty;
}

/** Whether the terminal takes cursor and clear-screen codes (not TERM=dumb, not a pipe). */
export function terminalRedraws(env: Readonly<NodeJS.ProcessEnv>, isTty: boolean): boolean {
  return isTty && env.TERM !== 'dumb';
}

/** Colours for what the CLI writes to stdout. */
export function stdoutColours(): Colours {
  return picocolors.createColors(colourEnabled(process.env, process.stdout.isTTY === true));
}

/** Colours for what the CLI writes to stderr. */
export function stderrColours(): Colours {
  return picocolors.createColors(colourEnabled(process.env, process.stderr.isTTY === true));
}

/** A run or step status coloured by what it means: done green, failing red, going on yellow. */
export function colourStatus(c: Colours, status: string): string {
  if (/^(completed|planned|applied|valid)$/.test(status)) return c.green(status);
  if (/^(failed|rolled-back|rejected|abandoned|dead-lettered|invalid)$/.test(status)) return c.red(status);
  if (/^(running|rolling-back|pending|paused|started)$/.test(status)) return c.yellow(status);
  return status;
}

/**
 * Colours a watch/status frame that was already escaped for the terminal (pure): the result line by its
 * verdict, checks by their mark, failures red. Only words the CLI itself writes are matched.
 */
export function paintFrame(c: Colours, frame: string): string {
  return frame
    .replace(/^(result: )(COMPLETED|PLANNED \(dry run\))/gm, (_, head: string, verdict: string) => `${head}${c.green(c.bold(verdict))}`)
    .replace(/^(result: )(FAILED|ROLLED BACK|REJECTED)/gm, (_, head: string, verdict: string) => `${head}${c.red(c.bold(verdict))}`)
    .replace(/^( {2})\[ok\]/gm, (_, pad: string) => `${pad}[${c.green('ok')}]`)
    .replace(/^( {2})\[!!\]/gm, (_, pad: string) => `${pad}[${c.red('!!')}]`)
    .replace(/^( {2}! .*)$/gm, (_, text: string) => c.red(text))
    .replace(/^(run|stage:|trace) /gm, (_, word: string) => `${c.bold(word)} `);
}

/** The Jaeger UI the CLI links traces to: JAEGER_UI_URL, else JAEGER_QUERY_URL (the stack's query serves the UI). */
export function jaegerUiUrl(env: Readonly<NodeJS.ProcessEnv> = process.env): string | undefined {
  return env.JAEGER_UI_URL || env.JAEGER_QUERY_URL || undefined;
}
