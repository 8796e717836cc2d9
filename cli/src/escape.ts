/**
 * Terminal output of values that came from outside the CLI (events, the control store, a policy file,
 * the catalog, error messages). A value holding a newline and ESC could print a fake line or rewrite the
 * screen; a bidi override could make text read differently from what it is. Every such character is
 * shown escaped instead (`\n`, `\x1b`, `\u202e`), so what is printed is what the value holds.
 * No npm package does exactly this: jsesc escapes either all non-ASCII text or (`minimal`) not ESC,
 * strip-ansi drops sequences instead of showing them, util.inspect adds quotes and keeps bidi controls.
 */

/** C0, DEL and C1 controls, the Arabic letter mark, zero-width and bidi marks, line/paragraph separators, bidi embeddings, overrides and isolates, BOM, lone surrogates. */
function actsOnTerminal(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x061c || (code >= 0x200b && code <= 0x200f)
    || (code >= 0x2028 && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0xfeff || (code >= 0xd800 && code <= 0xdfff);
}

const named: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escaped(char: string, code: number): string {
  return named[char] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** `text` with every character a terminal would act on written as an escape; other text (accents, CJK, emoji) as is. */
export function terminalSafe(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    out += actsOnTerminal(code) ? escaped(char, code) : char;
  }
  return out;
}

/** One line for the terminal: `text` escaped (so it stays one line), then a newline. */
export function line(text: string): string {
  return `${terminalSafe(text)}\n`;
}

/** Each line of a multi-line text (a frame, a table, a stack) escaped; the line breaks kept. */
export function linesSafe(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}

/**
 * JSON for stdout: JSON.stringify escapes C0 controls but not DEL, C1 or bidi controls; those are
 * written as `\uXXXX` too (they can only occur inside strings), so the document parses to the same value.
 */
export function jsonForTerminal(value: unknown, indent?: number): string {
  let out = '';
  for (const char of JSON.stringify(value, null, indent)) {
    const code = char.codePointAt(0) ?? 0;
    out += code >= 0x7f && actsOnTerminal(code) ? `\\u${code.toString(16).padStart(4, '0')}` : char;
  }
  return out;
}
