/**
 * The real browser of the dashboard's tests: Debian's `chromium` driven by playwright-core, which
 * downloads nothing. A machine without it fails the test with what to install — never a skip.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** The system Chromium (`which chromium`), or an error saying how to get it. */
export function chromiumPath(): string {
  try {
    const path = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
    if (path) return path;
  } catch {
    // not found: reported below
  }
  throw new Error('the dashboard browser tests need Chromium: `apt-get install -y chromium` (Debian package; .ci/run installs it)');
}

/** Launches headless Chromium (no sandbox: containers and CI run as root). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
}

/** A fresh folder for this run's screenshots under test-output/ (ignored by git); printed by the caller. */
export function screenshotsDir(name: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(fileURLToPath(new URL('../../../test-output/', import.meta.url)), name, stamp);
  mkdirSync(dir, { recursive: true });
  return dir;
}
