import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatHubConnection } from '../../src/client/index.js';
import { launchChromium } from '../helpers/browser.js';
import { type FlakyStore, flakyAdapters } from '../helpers/flakyStore.js';
import { PASSWORD, startTestServer, type TestServer, uniqueName } from '../helpers/server.js';

/**
 * The web app tells its user, in words, what a room's live feed is doing: reconnecting (and
 * why) while the server cannot serve it, then live again with nothing missing or doubled; and
 * why a room cannot be shown at all.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIVE_MS = 10_000;

let dataDir: string;
let flaky: FlakyStore;
let server: TestServer;
let browser: Browser;
let writer: ChatHubConnection;
let page: Page;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/web/index.html'))) {
    throw new Error('dist/web/index.html is missing: run npm run build first');
  }
  dataDir = mkdtempSync(join(tmpdir(), 'chathub-room-status-'));
  const setup = flakyAdapters(dataDir);
  flaky = setup.flaky;
  server = await startTestServer({}, { adapters: setup.adapters });
  writer = await server.user(uniqueName('writer'));
  browser = await launchChromium();
  const context = await browser.newContext();
  context.setDefaultTimeout(LIVE_MS);
  page = await context.newPage();
  // Signed in as a returning visitor would be: a session the app finds in localStorage.
  const { services } = server.running;
  const reader = await services.auth.signUp({ username: uniqueName('reader'), password: PASSWORD });
  const session = services.tokens.issue(reader);
  await context.addInitScript({
    content: `localStorage.setItem('chathub.session', ${JSON.stringify(JSON.stringify(session))});`,
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

const feedStatus = () => page.getByTestId('feed-status');
const messages = (body: string) =>
  page.getByRole('log', { name: 'Messages' }).getByTestId('message').filter({ hasText: body });

describe('the room’s live feed in the web app', { timeout: 60_000 }, () => {
  it('says why a room cannot be shown', async () => {
    await page.goto(`${server.apiUrl}/rooms/no-such-room`);
    await page.getByText('This room cannot be shown: There is no room "no-such-room"').waitFor();
    expect(await feedStatus().count()).toBe(0);
  });

  it('says it is reconnecting while the server cannot serve the room, then shows what was missed', async () => {
    const room = await writer.rooms.create.mutate({ name: uniqueName('Flaky') });
    await writer.chat.send.mutate({ roomId: room.id, body: 'before the outage' });
    await page.goto(`${server.apiUrl}/rooms/${room.id}`);
    await messages('before the outage').waitFor();

    // The reconnect's catch-up fails twice; a message lands during each failure.
    let during = 0;
    flaky.failNext('eventsAfter', 2, async () => {
      during += 1;
      await writer.chat.send.mutate({ roomId: room.id, body: `during the outage ${during}` });
    });
    server.running.chat?.transport.broadcastReconnect();
    await expect
      .poll(async () => (await feedStatus().allTextContents()).join(''), {
        timeout: LIVE_MS,
        interval: 20,
        message: 'the notice names the server’s reason',
      })
      .toMatch(/^Reconnecting to this room… (Something went wrong|The database is unavailable)/);

    await messages('during the outage 2').waitFor();
    await expect.poll(() => feedStatus().count(), { timeout: LIVE_MS }).toBe(0);
    for (const body of ['before the outage', 'during the outage 1', 'during the outage 2']) {
      expect(await messages(body).count(), body).toBe(1);
    }
  });
});
