import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory.js';
import { AS_SENT, type PublicUser } from '../../src/contract/models.js';
import { createStaticDiscovery } from '../../src/discovery/static.js';
import { createUlidFactory } from '../../src/domain/ids.js';
import { createMemoryPresence } from '../../src/presence/memory.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import type { Store } from '../../src/storage/store.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import {
  ARTIFACTS,
  type BrowserUser,
  browserSuite,
  expectText,
  LIVE_MS,
  message,
  messageLog,
  PHONE,
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
/** Messages a user may send at once here; they come back slowly, so a burst is refused soon. */
const MESSAGE_BURST = 20;

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
      rateLimits: { messages: { perSecond: 2, burst: MESSAGE_BURST } },
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
      ...AS_SENT,
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

const pinnedStrip = (page: Page) => page.getByRole('region', { name: /Pinned/ });
const onlinePanel = (page: Page) => page.getByRole('complementary', { name: /^Online/ });

/** The online panel's rows as text (name and marks), sorted. */
async function onlineNames(page: Page): Promise<string[]> {
  const rows = await onlinePanel(page).getByRole('listitem').allTextContents();
  return rows.map((row) => row.trim()).sort();
}

/** The actions button of the message with `body` by `author`, on `user`'s screen. */
function actionsOf(user: BrowserUser, body: string, author: BrowserUser): Locator {
  return message(user.page, body).getByRole('button', {
    name: `Actions for ${author.name}'s message`,
  });
}

/** Opens the message's menu; returns its items. */
async function openMenu(user: BrowserUser, body: string, author: BrowserUser): Promise<string[]> {
  await actionsOf(user, body, author).click();
  const items = user.page.getByRole('menu').getByRole('menuitem');
  await items.first().waitFor();
  return (await items.allTextContents()).map((text) => text.trim());
}

async function choose(user: BrowserUser, body: string, author: BrowserUser, item: string) {
  await openMenu(user, body, author);
  await user.page.getByRole('menuitem', { name: item, exact: true }).click();
}

async function expectFocused(locator: Locator, what: string) {
  await expect
    .poll(() => locator.and(locator.page().locator(':focus')).count(), {
      timeout: LIVE_MS,
      message: `${what} has focus`,
    })
    .toBe(1);
}

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
    await expect
      .poll(() => inView(a.page, message(a.page, 'Three days ago')), { timeout: LIVE_MS })
      .toBe(true);
    await send(b, 'New while A reads, one');
    await send(b, 'New while A reads, two');
    await expectText(newMessagesButton(a.page), '2 new messages ↓', "A's new messages button");
    expect(await inView(a.page, message(a.page, 'New while A reads, one'))).toBe(false);
    await screenshots(a.page, 'room-new-messages');

    await newMessagesButton(a.page).click();
    await expect.poll(() => newMessagesButton(a.page).count(), { timeout: LIVE_MS }).toBe(0);
    expect(await inView(a.page, message(a.page, 'New while A reads, one'))).toBe(true);
    expect(await inView(a.page, message(a.page, 'New while A reads, two'))).toBe(true);
    await expectFocused(messageLog(a.page), 'the message list, after the jump');
  });

  it('B edits their message from the keyboard; A sees the new text, marked edited', async () => {
    await send(b, 'Is the talk recorded?');
    await message(a.page, 'Is the talk recorded?').waitFor();
    await actionsOf(b, 'Is the talk recorded?', b).focus();
    await b.page.keyboard.press('Enter');
    await expectFocused(b.page.getByRole('menuitem', { name: 'Edit' }), 'the menu’s first item');
    await b.page.keyboard.press('Enter');
    const box = b.page.getByRole('textbox', { name: 'Edit message' });
    await expectFocused(box, 'the edit box');
    await box.press('End');
    await box.pressSequentially(' And shared?');
    await b.page.screenshot({ path: join(ARTIFACTS, 'room-edit.png') });
    await box.press('Enter');

    const edited = message(a.page, 'Is the talk recorded? And shared?');
    await edited.waitFor();
    await edited.getByText(/edited/).waitFor();
    expect(await message(a.page, 'Is the talk recorded?').count(), 'one message, edited').toBe(1);
    await expectFocused(actionsOf(b, 'And shared?', b), 'B’s menu button after saving');
  });

  it('B removes a message after confirming; A sees it as removed, its votes frozen', async () => {
    await send(b, 'Wrong room, sorry');
    const id = await message(b.page, 'Wrong room, sorry').getAttribute('data-message-id');
    await message(a.page, 'Wrong room, sorry').waitFor();
    await choose(b, 'Wrong room, sorry', b, 'Remove…');
    const dialog = b.page.getByRole('alertdialog', { name: 'Remove this message?' });
    await expectFocused(dialog.getByRole('button', { name: 'Cancel' }), 'Cancel, the safe choice');
    await b.page.screenshot({ path: join(ARTIFACTS, 'room-confirm-remove.png') });
    await dialog.getByRole('button', { name: 'Remove' }).click();

    const onA = messageLog(a.page).locator(`[data-message-id="${id}"]`);
    await expectText(onA.locator('.message-body'), 'Message removed', 'the tombstone on A');
    expect(await onA.getByRole('button', { name: 'Upvote' }).isDisabled()).toBe(true);
    expect(await message(a.page, 'Wrong room, sorry').count()).toBe(0);
  });

  it('A, who owns the room, pins one question and marks another answered; B sees both', async () => {
    await send(b, 'When will the slides be shared?');
    await send(b, 'Which room is the workshop in?');
    await choose(a, 'When will the slides be shared?', b, 'Pin to the top');
    await pinnedStrip(b.page).getByText('When will the slides be shared?').waitFor();
    await choose(a, 'Which room is the workshop in?', b, 'Mark answered');
    await message(b.page, 'Which room is the workshop in?').getByText('✓ Answered').waitFor();
    await pinnedStrip(a.page).getByText('When will the slides be shared?').waitFor();
    await message(a.page, 'Which room is the workshop in?').getByText('✓ Answered').waitFor();
    await screenshots(a.page, 'room-pinned-answered');
  });

  it('the Top view can hide answered questions', async () => {
    await b.page.getByRole('button', { name: 'Top', exact: true }).click();
    const hide = b.page.getByRole('checkbox', { name: 'Hide answered' });
    await hide.check();
    await expect
      .poll(() => message(b.page, 'Which room is the workshop in?').count(), { timeout: LIVE_MS })
      .toBe(0);
    await message(b.page, 'When will the slides be shared?').waitFor();
    await hide.uncheck();
    await message(b.page, 'Which room is the workshop in?').waitFor();
    await b.page.getByRole('button', { name: 'Latest', exact: true }).click();
  });

  it('only the owner moderates: A removes B’s message, B gets no menu on A’s', async () => {
    await send(a, 'Welcome! Ask away.');
    await message(b.page, 'Welcome! Ask away.').waitFor();
    expect(await actionsOf(b, 'Welcome! Ask away.', a).count(), 'no menu for B').toBe(0);
    const ownMenu = await openMenu(b, 'Which room is the workshop in?', b);
    expect(ownMenu, 'B’s own message: no pin, no answer mark').toEqual(['Edit', 'Remove…']);
    await b.page.keyboard.press('Escape');

    await send(b, 'Buy cheap watches');
    const id = await message(b.page, 'Buy cheap watches').getAttribute('data-message-id');
    await choose(a, 'Buy cheap watches', b, 'Remove…');
    await a.page.getByRole('alertdialog').getByRole('button', { name: 'Remove' }).click();
    const onB = messageLog(b.page).locator(`[data-message-id="${id}"]`);
    await expectText(onB.locator('.message-body'), 'Message removed', 'the tombstone on B');
  });

  it('lists who is online: a side panel on wide screens, a popover on narrow ones', async () => {
    const panel = onlinePanel(a.page);
    await expect
      .poll(() => onlineNames(a.page), { timeout: LIVE_MS })
      .toEqual([`${a.name}YouOwner`, `${b.name}`].sort());
    await a.page.screenshot({ path: join(ARTIFACTS, 'room-online.png'), fullPage: true });

    await b.page.setViewportSize(PHONE);
    await b.page.reload();
    await message(b.page, 'Welcome! Ask away.').waitFor();
    const toggle = b.page.getByTestId('online-count');
    expect(await toggle.getAttribute('aria-expanded'), 'closed at first on a phone').toBe('false');
    await toggle.click();
    await expect
      .poll(() => onlineNames(b.page), { timeout: LIVE_MS })
      .toEqual([`${a.name}Owner`, `${b.name}You`].sort());
    await b.page.keyboard.press('Escape');
    await expect.poll(() => onlinePanel(b.page).count(), { timeout: LIVE_MS }).toBe(0);
    await expectFocused(toggle, 'the toggle after Escape');
    await toggle.click();
    await onlinePanel(b.page).waitFor();
    await b.page.screenshot({ path: join(ARTIFACTS, 'room-online-mobile.png'), fullPage: true });
    await message(b.page, 'Welcome! Ask away.').click();
    await expect
      .poll(() => onlinePanel(b.page).count(), {
        timeout: LIVE_MS,
        message: 'a click elsewhere closes it',
      })
      .toBe(0);
    expect(await panel.count()).toBe(1);
  });

  it('B sees that A is typing, until A’s message arrives', async () => {
    const composer = a.page.getByLabel('Message', { exact: true });
    await composer.click();
    // Typing signals go out at most every 2 s: type as long as a person would.
    await composer.pressSequentially('The slides go out tonight', { delay: 100 });
    await expectText(b.page.getByTestId('typing'), `${a.name} is typing…`, 'B’s typing line');
    expect((await a.page.getByTestId('typing').textContent())?.trim(), 'never oneself').toBe('');
    await composer.press('Enter');
    await message(b.page, 'The slides go out tonight').waitFor();
    await expectText(b.page.getByTestId('typing'), '', 'B’s typing line once the message is in');
  });

  it('counts unread messages on the rooms list, and clears them once read', async () => {
    await a.page.getByRole('link', { name: 'All rooms' }).click();
    await a.page.getByRole('heading', { name: 'Rooms' }).waitFor();
    for (const n of [1, 2, 3]) await send(b, `While A is away ${n}`);
    const unread = roomLink(a.page, roomName).getByTestId('unread');
    await expectText(unread, '3 unread', 'the room’s unread count');
    await openRoom(a);
    await message(a.page, 'While A is away 3').waitFor();
    await a.page.getByRole('link', { name: 'All rooms' }).click();
    await expect
      .poll(() => unread.count(), { timeout: LIVE_MS, message: 'read to the end: no count' })
      .toBe(0);
    await openRoom(a);
  });

  it('after a reload, B finds every change as it was left', async () => {
    await b.page.reload();
    await message(b.page, 'Is the talk recorded? And shared?')
      .getByText(/edited/)
      .waitFor();
    await pinnedStrip(b.page).getByText('When will the slides be shared?').waitFor();
    await message(b.page, 'Which room is the workshop in?').getByText('✓ Answered').waitFor();
    expect(await message(b.page, 'Wrong room, sorry').count()).toBe(0);
    expect(await messageLog(b.page).getByText('Message removed').count()).toBe(2);
  });

  it('a message sent while offline shows as sending, then arrives once', async () => {
    await a.context.setOffline(true);
    await expectText(a.page.getByTestId('connection'), 'Offline', 'A’s badge while offline');
    const composer = a.page.getByLabel('Message', { exact: true });
    await composer.fill('Sent from a tunnel');
    await composer.press('Enter');
    const pending = a.page.getByTestId('pending-message').filter({ hasText: 'Sent from a tunnel' });
    await expectText(pending.getByRole('status'), 'Sending…', 'the pending message');
    expect(await composer.inputValue(), 'the composer clears at once').toBe('');
    await a.context.setOffline(false);
    await message(b.page, 'Sent from a tunnel').waitFor();
    await expect.poll(() => pending.count(), { timeout: LIVE_MS }).toBe(0);
    expect(await message(a.page, 'Sent from a tunnel').count()).toBe(1);
    expect(await message(b.page, 'Sent from a tunnel').count()).toBe(1);
  });

  it('a message refused for going too fast stays, marked not sent, until retried', async () => {
    const composer = a.page.getByLabel('Message', { exact: true });
    const failed = a.page.getByTestId('pending-message').filter({ hasText: 'Not sent' });
    const sent: string[] = [];
    while (sent.length < MESSAGE_BURST + 10 && (await failed.count()) === 0) {
      sent.push(`Burst ${sent.length + 1}`);
      await composer.fill(sent.at(-1) ?? '');
      await composer.press('Enter');
    }
    await failed.first().waitFor();
    expect(await failed.first().textContent()).toMatch(/Not sent: .*too fast/);
    // Retry each refused one as it comes (the ones in flight may be refused too), until none waits.
    await expect
      .poll(
        async () => {
          if ((await failed.count()) > 0) {
            await failed.first().getByRole('button', { name: 'Retry' }).click();
          }
          return a.page.getByTestId('pending-message').count();
        },
        { timeout: 30_000, message: 'every refused message retried and sent' },
      )
      .toBe(0);
    const bursts = async (page: Page) =>
      (await messageLog(page).locator('.message-body').allTextContents()).filter((body) =>
        body.startsWith('Burst '),
      );
    // Each once; a retried one takes its place in the room when it is finally taken.
    await expect
      .poll(async () => (await bursts(b.page)).sort(), { timeout: LIVE_MS })
      .toEqual([...sent].sort());
    expect(await bursts(a.page), 'the same order for both').toEqual(await bursts(b.page));
    // The refusal may still be told in the banner above the room; the reader puts it away.
    const banner = a.page.getByRole('alert');
    if ((await banner.count()) > 0) await banner.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('logged no console errors, CSP violations or uncaught exceptions', async () => {
    expect(await visibleAlerts(a.page)).toEqual([]);
    expect(unexpectedErrors()).toEqual([]);
  });
});
