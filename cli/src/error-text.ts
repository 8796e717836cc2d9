/** Errors as the CLI prints them: one line, causes included, passwords redacted (a driver may quote its URL). */
import { redactCredentials } from '@upshift/runtime';

/** An error and its causes on one line (kafkajs wraps the useful part in `cause`), without passwords. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 4; e = e instanceof Error ? e.cause : undefined) {
    const text = e instanceof Error ? e.message || e.name : String(e);
    if (parts.at(-1) !== text) parts.push(text);
  }
  return redactCredentials(parts.join(': '));
}
