import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory.js';
import type { PublicUser } from '../../src/contract/models.js';
import { createStaticDiscovery } from '../../src/discovery/static.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import { createMemoryPresence } from '../../src/presence/memory.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import type { Store } from '../../src/storage/store.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import {
  type BrowserUser,
  browserSuite,
  expectText,
  LIVE_MS,
  message,
  messageLog,
  roomLink,
  screenshots,
  send,
  signUp,
  visibleAlerts,
} from './webSession.js';

/**
 * A room people look after, in two browsers: its owner (A) and a guest (B). Each feature is
 * made in one browser and seen in the other.
 */

const DAY = 24 * 60 * 60_000;

let store: Store;
let server: TestServer;
const { newUser, unexpectedErrors } = browserSuite(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chathub-room-features-'));
  // The server's own store, so the test can write history dated days ago.
  store = openSqliteStore(join(dataDir, 'chathub.db'));
  server = await startTestServer(
    { DATA_DIR: dataDir },
    {
      adapters: {
        store,
        bus: createMemoryBus(),
        presence: createMemoryPresence(),
        discovery: createStaticDiscovery(undefined, 'localhost'),
      },
    },
  );
  return {
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
let a: BrowserUser;
let b: BrowserUser;
let roomId: string;
const roomName = uniqueName('Questions');

/** Messages by `author` a minute apart from `start`, written straight into the room's log. */
async function writeHistory(author: PublicUser, start: number, bodies: string[]) {
  const id = createUlidFactory(() => start);
  for (const [i, body] of bodies.entries()) {
    await store.messages.append({
      id: id(),
      roomId,
      author,
      body,
      createdAt: start + i * 60_000,
      up: 0,
      down: 0,
    });
  }
}

async function openRoom(user: BrowserUser) {
  await roomLink(user.page, roomName).click();
  await user.page.getByRole('heading', { name: `# ${roomName}` }).waitFor();
  await expectText(user.page.getByTestId('connection'), 'Connected', `${user.name}'s connection`);
}

/** Whether an element shows inside the message list's visible area. */
async function inView(page: Page, target: Locator): Promise<boolean> {
  const [view, box] = await Promise.all([messageLog(page).boundingBox(), target.boundingBox()]);
  if (!view || !box) return false;
  return box.y < view.y + view.height && box.y + box.height > view.y;
}

const newMessagesButton = (page: Page) => page.getByRole('button', { name: /new messages?$/ });
const dayHeadings = (page: Page) => messageLog(page).getByRole('heading', { level: 2 });

describe('a room people look after', { timeout: 120_000 }, () => {
  it('A creates a room and B joins; days of history show under their dates, times relative', async () => {
    a = await newUser('owner');
    b = await newUser('guest');
    await a.page.goto(server.apiUrl);
    await signUp(a);
    await a.page.getByLabel('New room name').fill(roomName);
    await a.page.getByRole('button', { name: 'Create room' }).click();
    await a.page.getByRole('heading', { name: `# ${roomName}` }).waitFor();
    roomId = new URL(a.page.url()).pathname.split('/').at(-1) ?? '';

    const { user: historian } = await server.fastUser(uniqueName('historian'));
    const now = Date.now();
    await writeHistory(historian, now - 3 * DAY, ['Three days ago']);
    await writeHistory(historian, now - DAY, ['Yesterday, first', 'Yesterday, second']);
    await writeHistory(
      historian,
      now - 30 * 60_000,
      Array.from({ length: 14 }, (_, i) => `Earlier today ${i + 1}\nwith a second line`),
    );
    await a.page.reload();
    await message(a.page, 'Earlier today 14').waitFor();

    await b.page.goto(server.apiUrl);
    await signUp(b);
    await openRoom(b);

    const headings = (await dayHeadings(a.page).allTextContents()).map((text) => text.trim());
    expect(headings).toHaveLength(3);
    expect(headings.slice(1)).toEqual(['Yesterday', 'Today']);
    expect(headings[0]).not.toMatch(/^(Today|Yesterday)$/);
    const yesterday = message(a.page, 'Yesterday, first').locator('time');
    expect(await yesterday.textContent()).toMatch(/^yesterday \d/);
    expect(await yesterday.getAttribute('title'), 'the exact time on hover').toMatch(
      String(new Date(now - DAY).getFullYear()),
    );
    expect(await message(a.page, 'Earlier today 14').locator('time').textContent()).toMatch(
      /^(1[0-9]|2[0-9]) min$/,
    );
  });

  it('counts what B sends while A reads further up, and jumps to it', async () => {
    const log = messageLog(a.page);
    await log.hover();
    await a.page.mouse.wheel(0, -20_000);
    await expect.poll(() => inView(a.page, message(a.page, 'Three days ago'))).toBe(true);
    await send(b, 'New while A reads, one');
    await send(b, 'New while A reads, two');
    await expectText(newMessagesButton(a.page), '2 new messages ↓', "A's new messages button");
    expect(await inView(a.page, message(a.page, 'New while A reads, one'))).toBe(false);
    await screenshots(a.page, 'room-new-messages');

    await newMessagesButton(a.page).click();
    await expect.poll(() => newMessagesButton(a.page).count(), { timeout: LIVE_MS }).toBe(0);
    expect(await inView(a.page, message(a.page, 'New while A reads, one'))).toBe(true);
    expect(await inView(a.page, message(a.page, 'New while A reads, two'))).toBe(true);
    expect(await a.page.locator('[role="log"]:focus').count(), 'focus stays on the messages').toBe(
      1,
    );
  });

  it('logged no console errors, CSP violations or uncaught exceptions', async () => {
    expect(await visibleAlerts(a.page)).toEqual([]);
    expect(unexpectedErrors()).toEqual([]);
  });
});
