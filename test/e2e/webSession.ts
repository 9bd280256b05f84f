import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { collectPageErrors, launchChromium } from '../helpers/browser.js';
import { PASSWORD, uniqueName } from '../helpers/server.js';

/** What the web app's end-to-end tests share: users in browser contexts and their gestures. */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ARTIFACTS = join(ROOT, 'artifacts');
/** How long a change made by one user may take to show on the other's screen. */
export const LIVE_MS = 10_000;
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };

export interface BrowserUser {
  name: string;
  context: BrowserContext;
  page: Page;
  errors: string[];
  /** Console errors this test provokes on purpose (a browser logs every 4xx response). */
  expectedErrors: RegExp[];
}

/** Fails unless the web app was built, and makes the screenshot folder. */
function requireBuiltApp(): void {
  if (!existsSync(join(ROOT, 'dist/web/index.html'))) {
    throw new Error('dist/web/index.html is missing: run npm run build first');
  }
  mkdirSync(ARTIFACTS, { recursive: true });
}

/**
 * A test file's browser, server and users, each user in a browser context of their own. `start`
 * starts the server (and whatever it needs); what it returns is stopped after the file. When
 * either cannot start, every test fails with the reason (none is skipped).
 */
export function browserSuite(start: () => Promise<{ stop(): Promise<void> }>) {
  const users: BrowserUser[] = [];
  let browser: Browser | null = null;
  let running: { stop(): Promise<void> } | null = null;
  let setupError: unknown = null;

  beforeAll(async () => {
    try {
      requireBuiltApp();
      running = await start();
      browser = await launchChromium();
    } catch (error) {
      setupError = error;
    }
  }, 60_000);
  beforeEach(() => {
    if (setupError) throw setupError;
  });
  afterAll(async () => {
    await Promise.allSettled(users.map((user) => user.context.close()));
    await browser?.close();
    await running?.stop();
  }, 60_000);

  return {
    async newUser(prefix: string, viewport = DESKTOP): Promise<BrowserUser> {
      if (!browser) throw new Error('the browser did not start');
      const context = await browser.newContext({ viewport });
      context.setDefaultTimeout(LIVE_MS);
      const page = await context.newPage();
      const name = uniqueName(prefix);
      const user = {
        name,
        context,
        page,
        errors: collectPageErrors(page, name),
        expectedErrors: [],
      };
      users.push(user);
      return user;
    },
    /** Console errors, CSP violations and uncaught exceptions nobody provoked on purpose. */
    unexpectedErrors(only: BrowserUser[] = users): string[] {
      return only.flatMap((user) =>
        user.errors.filter((error) => !user.expectedErrors.some((pattern) => pattern.test(error))),
      );
    },
  };
}

/** Waits until the element's trimmed text equals `expected`, naming what was awaited when it does not. */
export async function expectText(
  locator: Locator,
  expected: string,
  what: string,
  timeout = LIVE_MS,
) {
  await expect
    .poll(async () => ((await locator.textContent({ timeout })) ?? '').trim(), {
      timeout,
      interval: 50,
      message: `${what}: expected text "${expected}"`,
    })
    .toBe(expected);
}

export async function expectAttribute(
  locator: Locator,
  name: string,
  expected: string | null,
  what: string,
  timeout = LIVE_MS,
) {
  await expect
    .poll(() => locator.getAttribute(name, { timeout }), {
      timeout,
      interval: 50,
      message: `${what}: expected ${name}=${JSON.stringify(expected)}`,
    })
    .toBe(expected);
}

export async function signUp(user: BrowserUser): Promise<void> {
  const { page } = user;
  await page.getByRole('tab', { name: 'Sign up' }).click();
  await page.getByLabel('Username', { exact: true }).fill(user.name);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText(`Signed in as ${user.name}`).waitFor();
  await page.getByRole('heading', { name: 'Rooms' }).waitFor();
}

export function roomLink(page: Page, roomName: string): Locator {
  return page.getByRole('link', { name: new RegExp(`\\b${roomName}\\b`) });
}

export function messageLog(page: Page): Locator {
  return page.getByRole('log', { name: 'Messages' });
}

export function message(page: Page, body: string): Locator {
  return messageLog(page).getByTestId('message').filter({ hasText: body });
}

export async function send(user: BrowserUser, body: string): Promise<void> {
  const composer = user.page.getByLabel('Message', { exact: true });
  await composer.click();
  await composer.pressSequentially(body);
  await composer.press('Enter');
  await message(user.page, body).waitFor();
  await expect
    .poll(() => composer.inputValue(), { message: 'the composer clears after sending' })
    .toBe('');
}

/** Alerts with something in them: a live region may sit empty in the page, but should not speak. */
export async function visibleAlerts(page: Page): Promise<string[]> {
  const texts = await page.getByRole('alert').allTextContents();
  return texts.map((text) => text.trim()).filter(Boolean);
}

/** Full-page screenshots of `page` at desktop and phone width, as `<name>.png` and `<name>-mobile.png`. */
export async function screenshots(page: Page, name: string): Promise<void> {
  const size = page.viewportSize();
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(ARTIFACTS, `${name}-mobile.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
}
