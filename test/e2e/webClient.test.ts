import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  ARTIFACTS,
  type BrowserUser,
  browserSuite,
  expectAttribute,
  expectText,
  LIVE_MS,
  message,
  roomLink,
  screenshots,
  send,
  signUp,
  visibleAlerts,
} from './webSession.js';

/** Leaving is announced after the presence throttle (250 ms); allow for the socket close to land. */
const PRESENCE_DROP_MS = 10_000;

type User = BrowserUser;

let server: TestServer;
const { newUser, unexpectedErrors } = browserSuite(async () => {
  server = await startTestServer();
  return server;
});

async function openGeneral(user: User): Promise<void> {
  const link = roomLink(user.page, 'general');
  expect(await link.getAttribute('href')).toBe('/rooms/general');
  await link.click();
  await user.page.waitForURL('**/rooms/general');
  await user.page.getByRole('heading', { name: 'general' }).waitFor();
  await expectText(user.page.getByTestId('connection'), 'Connected', `${user.name}'s connection`);
}

function voteButton(article: Locator, name: 'Upvote' | 'Downvote'): Locator {
  return article.getByRole('button', { name, exact: true });
}

async function expectVotes(article: Locator, up: number, down: number, what: string) {
  await expectText(article.getByTestId('up-count'), String(up), `${what} up-count`);
  await expectText(article.getByTestId('down-count'), String(down), `${what} down-count`);
}

async function expectPressed(article: Locator, up: boolean, down: boolean, what: string) {
  await expectAttribute(
    voteButton(article, 'Upvote'),
    'aria-pressed',
    String(up),
    `${what} Upvote`,
  );
  await expectAttribute(
    voteButton(article, 'Downvote'),
    'aria-pressed',
    String(down),
    `${what} Downvote`,
  );
}

describe('auth screen', { timeout: 60_000 }, () => {
  it('shows a server validation message next to the field, linked by aria-describedby', async () => {
    const user = await newUser('val');
    user.expectedErrors.push(/Failed to load resource: .*status of 400 .*\/trpc\/auth\.signUp\b/);
    await user.page.goto(server.apiUrl);
    await user.page.getByRole('tab', { name: 'Sign up' }).click();
    await user.page.getByLabel('Username', { exact: true }).fill(user.name);
    const password = user.page.getByLabel('Password', { exact: true });
    await password.fill('short');
    await user.page.getByRole('button', { name: 'Create account' }).click();

    // What assistive technology reads for the field: the text of every element it points at.
    const description = async () => {
      const ids = ((await password.getAttribute('aria-describedby')) ?? '').split(/\s+/);
      const texts = await Promise.all(
        ids.filter(Boolean).map((id) => user.page.locator(`[id="${id}"]`).textContent()),
      );
      return texts.join(' ').trim();
    };
    await expect
      .poll(description, {
        timeout: LIVE_MS,
        message: "the Password input's aria-describedby leads to the server's message",
      })
      .toMatch(/Password must be at least \d+ characters/);
    await expect(
      user.page.getByText(/Password must be at least \d+ characters/).isVisible(),
      'the message is shown on screen, not only to screen readers',
    ).resolves.toBe(true);
    expect(await user.page.getByText(`Signed in as ${user.name}`).count()).toBe(0);
    await user.context.close();
  });

  it('tells a returning user whose stored session has expired to sign in again', async () => {
    const user = await newUser('late');
    // A session stored by an earlier visit whose token has run out (the app's localStorage key).
    const stale = {
      token: 'expired.token.value',
      expiresAt: Date.now() - 60_000,
      user: { id: 'u-expired', username: 'ghost' },
    };
    await user.context.addInitScript({
      content: `localStorage.setItem('chathub.session', ${JSON.stringify(JSON.stringify(stale))});`,
    });
    await user.page.goto(server.apiUrl);
    await user.page
      .getByRole('status')
      .filter({ hasText: 'Your session has expired; sign in again' })
      .waitFor();
    await user.page.getByRole('tab', { name: 'Sign in' }).waitFor();
    expect(await user.page.getByText('Signed in as').count()).toBe(0);
    await user.context.close();
  });
});

describe('web client in a real browser', { timeout: 120_000 }, () => {
  let a: User;
  let b: User;
  const first = `Hello from the browser ${Date.now()}`;

  it('serves the app with a content security policy', async () => {
    a = await newUser('alice');
    b = await newUser('bob');
    const response = await a.page.goto(server.apiUrl);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
  });

  it('signs two users up in separate browsers; both open general and see 2 online', async () => {
    await signUp(a);
    await openGeneral(a);
    await expectText(a.page.getByTestId('online-count'), '1 online', 'A alone in general');

    await b.page.goto(server.apiUrl);
    await signUp(b);
    // The room list names each room with its live head count ("general 1 online").
    await b.page.getByRole('link', { name: /\bgeneral\b.*\b1 online\b/ }).waitFor();
    await openGeneral(b);

    await expectText(a.page.getByTestId('online-count'), '2 online', "A's online count");
    await expectText(b.page.getByTestId('online-count'), '2 online', "B's online count");
    for (const user of [a, b]) {
      const pressed = await Promise.all(
        ['Latest', 'Top'].map((name) =>
          user.page.getByRole('button', { name, exact: true }).getAttribute('aria-pressed'),
        ),
      );
      expect(pressed.sort(), 'exactly one of Latest/Top is pressed').toEqual(['false', 'true']);
    }
  });

  it("delivers A's message to B, marked as A's own only for A", async () => {
    await send(a, first);
    const onB = message(b.page, first);
    await onB.waitFor();
    await expect(onB.count()).resolves.toBe(1);
    expect(await onB.textContent()).toContain(a.name);
    expect(await onB.getAttribute('data-own')).not.toBe('true');
    await expectAttribute(message(a.page, first), 'data-own', 'true', "A's own message on A");
    await expect(message(a.page, first).count()).resolves.toBe(1);
  });

  it('counts votes live: up, switch to down, take it back', async () => {
    const onA = message(a.page, first);
    const onB = message(b.page, first);
    await expectVotes(onA, 0, 0, "A's view before voting");

    await voteButton(onB, 'Upvote').click();
    await expectVotes(onA, 1, 0, "A's view after B upvotes");
    await expectPressed(onB, true, false, "B's buttons after upvoting");
    await expectPressed(onA, false, false, "A's buttons (A has not voted)");

    await voteButton(onB, 'Downvote').click();
    await expectVotes(onA, 0, 1, "A's view after B switches to downvote");
    await expectPressed(onB, false, true, "B's buttons after switching");

    await voteButton(onB, 'Downvote').click();
    await expectVotes(onA, 0, 0, "A's view after B takes the downvote back");
    await expectVotes(onB, 0, 0, "B's view after taking the downvote back");
    await expectPressed(onB, false, false, "B's buttons after taking the vote back");
  });

  it('keeps A signed in across a reload, with the message in history', async () => {
    await a.page.reload();
    await a.page.getByText(`Signed in as ${a.name}`).waitFor();
    await message(a.page, first).waitFor();
    expect(await a.page.getByRole('tab', { name: 'Sign in' }).count(), 'no auth screen').toBe(0);
    expect(a.page.url()).toBe(`${server.apiUrl}/rooms/general`);
    await expectText(a.page.getByTestId('connection'), 'Connected', "A's connection after reload");
    await expectText(a.page.getByTestId('online-count'), '2 online', "A's count after reload");
    await expectAttribute(message(a.page, first), 'data-own', 'true', 'own message after reload');
  });

  it('shows Offline when the network drops and Connected once it is back', async () => {
    await a.context.setOffline(true);
    await expectText(a.page.getByTestId('connection'), 'Offline', "A's badge while offline");
    await a.context.setOffline(false);
    await expectText(a.page.getByTestId('connection'), 'Connected', "A's badge back online");
  });

  it('reconnects by itself after the server asks it to, with nothing missing or doubled', async () => {
    server.running.chat?.transport.broadcastReconnect();
    const during = 'Sent while A was reconnecting';
    await send(b, during);
    await message(a.page, during).waitFor();
    await expectText(a.page.getByTestId('connection'), 'Connected', "A's badge after reconnecting");
    expect(await message(a.page, during).count(), 'the message once').toBe(1);
    expect(await message(a.page, first).count(), 'history not doubled').toBe(1);
  });

  it('renders the chat room (screenshots in artifacts/)', async () => {
    const reply =
      'Hi Alice! Voting works both ways, and this is a slightly longer message to see how the bubbles wrap.';
    const third = 'Top sorts by score; Latest by time.';
    await send(b, reply);
    await send(a, third);
    await message(a.page, reply).waitFor();
    await message(b.page, third).waitFor();
    await voteButton(message(a.page, reply), 'Upvote').click();
    await voteButton(message(b.page, third), 'Upvote').click();
    await voteButton(message(b.page, first), 'Downvote').click();
    await expectVotes(message(a.page, reply), 1, 0, "A's view of B's reply");
    await expectVotes(message(a.page, third), 1, 0, "A's view of A's third message");
    await expectVotes(message(a.page, first), 0, 1, "A's view of A's first message");
    await expectPressed(message(a.page, reply), true, false, "A's buttons on B's reply");

    expect(await visibleAlerts(a.page), 'no error alerts on A').toEqual([]);
    expect(await visibleAlerts(b.page), 'no error alerts on B').toEqual([]);

    await screenshots(a.page, 'chat-room');
  });

  it("drops A's online count to 1 when B closes the browser", async () => {
    await b.context.close();
    await expectText(
      a.page.getByTestId('online-count'),
      '1 online',
      "A's count after B left",
      PRESENCE_DROP_MS,
    );
  });

  it('signs A out to the auth screen, and a reload stays signed out', async () => {
    await a.page.getByRole('button', { name: 'Sign out' }).click();
    await a.page.getByRole('tab', { name: 'Sign in' }).waitFor();
    expect(await a.page.getByText(`Signed in as ${a.name}`).count()).toBe(0);
    await a.page.reload();
    await a.page.getByRole('tab', { name: 'Sign in' }).waitFor();
    expect(await a.page.getByText(`Signed in as ${a.name}`).count()).toBe(0);
  });

  it('logged no console errors, CSP violations or uncaught exceptions', () => {
    expect(unexpectedErrors()).toEqual([]);
  });
});

describe('room directory with a few thousand rooms', { timeout: 120_000 }, () => {
  const ROOMS = 3_000;
  const roomName = (i: number) => `Room ${String(i).padStart(4, '0')}`;
  let reader: User;
  let visitor: User;
  const roomItems = (page: Page) => page.getByRole('list', { name: 'Rooms' }).getByRole('listitem');
  const loadMore = (page: Page) => page.getByRole('button', { name: 'Load more rooms' });
  const search = (page: Page) => page.getByLabel('Find a room');

  beforeAll(async () => {
    if (!server) return; // the server did not start: every test fails with the reason
    // Straight into the server's own database file, as an import or an old deployment would.
    const store = openSqliteStore(join(server.dataDir, 'chathub.db'));
    try {
      for (let i = 0; i < ROOMS; i++) {
        await store.rooms.create({ id: `room-${i}`, name: roomName(i), createdAt: i });
      }
      await store.rooms.create({ id: 'zebra-crossing', name: 'Zebra Crossing', createdAt: ROOMS });
    } finally {
      await store.close();
    }
    reader = await newUser('reader');
    visitor = await newUser('visitor');
  }, 60_000);

  it('shows the first page of rooms in name order, and Load more reveals the next', async () => {
    await reader.page.goto(server.apiUrl);
    await signUp(reader);
    await expect.poll(() => roomItems(reader.page).count(), { timeout: LIVE_MS }).toBe(50);
    expect((await roomItems(reader.page).first().textContent())?.trim()).toMatch(/^# general/);
    expect(await roomItems(reader.page).nth(49).textContent()).toContain(`# ${roomName(48)}`);
    await expect(roomLink(reader.page, roomName(49)).count()).resolves.toBe(0);

    await loadMore(reader.page).click();
    await expect.poll(() => roomItems(reader.page).count(), { timeout: LIVE_MS }).toBe(100);
    await roomLink(reader.page, roomName(49)).waitFor();
    expect(await roomItems(reader.page).nth(99).textContent()).toContain(`# ${roomName(98)}`);
  });

  it('keeps the online counts of every room shown live, on later pages too', async () => {
    await visitor.page.goto(server.apiUrl);
    await signUp(visitor);
    await visitor.page.goto(`${server.apiUrl}/rooms/room-75`);
    await visitor.page.getByRole('heading', { name: `# ${roomName(75)}` }).waitFor();
    await expectText(visitor.page.getByTestId('connection'), 'Connected', "visitor's connection");
    await reader.page
      .getByRole('link', { name: new RegExp(`${roomName(75)}.*\\b1 online\\b`) })
      .waitFor({ timeout: LIVE_MS });
  });

  it('finds one room among thousands by the start of its name, on the server', async () => {
    await search(reader.page).fill('ＺＥＢＲＡ');
    await expect
      .poll(
        async () => (await roomItems(reader.page).allTextContents()).map((text) => text.trim()),
        {
          timeout: LIVE_MS,
          message: 'the search narrows the list to the one matching room',
        },
      )
      .toEqual(['# Zebra Crossing0 online']);
    await expect(loadMore(reader.page).count()).resolves.toBe(0);

    await search(reader.page).fill('no such room');
    await reader.page.getByRole('status').filter({ hasText: 'No room name starts with' }).waitFor();
    await expect(roomItems(reader.page).count()).resolves.toBe(0);

    // Back to the whole directory, as far as it was loaded.
    await search(reader.page).fill('');
    await expect.poll(() => roomItems(reader.page).count(), { timeout: LIVE_MS }).toBe(100);
    await loadMore(reader.page).waitFor();
  });

  it("shows the server's objection to a room name next to the field", async () => {
    reader.expectedErrors.push(
      /Failed to load resource: .*status of 400 .*\/trpc\/rooms\.create\b/,
    );
    const field = reader.page.getByLabel('New room name');
    await field.fill('pаypal fans');
    await reader.page.getByRole('button', { name: 'Create room' }).click();
    const describedBy = (await field.getAttribute('aria-describedby')) ?? '';
    await expectText(
      reader.page.locator(`[id="${describedBy}"]`),
      'Room name mixes scripts that can look alike (such as Latin with Cyrillic or Greek letters); use one script',
      'the name field explains the refusal',
    );
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await reader.page.screenshot({ path: join(ARTIFACTS, 'room-directory.png'), fullPage: true });
  });

  it('logged no console errors, CSP violations or uncaught exceptions', () => {
    expect(unexpectedErrors([reader, visitor])).toEqual([]);
  });
});
