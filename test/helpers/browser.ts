import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type Browser, type ConsoleMessage, chromium, type Page } from 'playwright-core';

/** Flags for a quiet, self-contained headless Chromium (no GPU, no calls home, no sandbox in CI containers). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * The system Chromium (Debian's `chromium` package) found on PATH, resolved through symlinks.
 * Tests never download a browser: when there is none, this throws, so the suite fails loudly
 * instead of skipping.
 */
export function findChromium(): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, 'chromium');
    try {
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate);
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `No 'chromium' executable on PATH (${dirs.join(delimiter) || 'empty'}). The browser tests need ` +
      "Debian's Chromium: run scripts/provision.sh as root, or apt-get install chromium. " +
      'They never download a browser and never skip.',
  );
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
}

/** Collects what a page reports as broken: console errors (CSP violations land here) and uncaught exceptions. */
export function collectPageErrors(page: Page, label: string): string[] {
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    const { url, lineNumber } = message.location();
    errors.push(
      `[${label}] console.error: ${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`,
    );
  });
  page.on('pageerror', (error: Error) => {
    errors.push(`[${label}] uncaught: ${error.stack ?? error.message}`);
  });
  return errors;
}
