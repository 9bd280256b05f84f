import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatHubConnection } from '../../src/client/index.js';
import { failure } from '../helpers/errors.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';

let server: TestServer;
let ada: ChatHubConnection;
beforeAll(async () => {
  // One user creates many rooms here; the creation limit has its own tests.
  server = await startTestServer({ ROOM_CREATES_BURST: '100' });
  ada = await server.user(uniqueName('ada'));
});
afterAll(() => server.stop());

/** The per-field messages a refused call carried. */
async function fieldErrors(call: Promise<unknown>): Promise<Record<string, string[]> | null> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) {
      return (error.data as { fieldErrors: Record<string, string[]> | null }).fieldErrors;
    }
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('message bodies', () => {
  it('refuses bodies made only of zero-width and format characters as empty', async () => {
    const roomId = (await ada.rooms.create.mutate({ name: uniqueName('quiet') })).id;
    const invisible = [
      '\u200b',
      '\u200c\u200d',
      '\u2060\u200e\u200f\ufeff',
      ' \u00ad\u061c\u180e ',
      '\u3164\u3164',
      '\u{e0020}\u{e007f}',
    ];
    for (const body of invisible) {
      expect(await failure(ada.chat.send.mutate({ roomId, body })), JSON.stringify(body)).toEqual({
        code: 'BAD_REQUEST',
        message: 'Message cannot be empty',
      });
    }
    const { messages } = await ada.chat.history.query({ roomId });
    expect(messages).toEqual([]);
  });

  it('keeps zero-width characters inside visible text: emoji sequences survive', async () => {
    const roomId = (await ada.rooms.create.mutate({ name: uniqueName('emoji') })).id;
    const family = '👨\u200d👩\u200d👧\u200d👦';
    const sent = await ada.chat.send.mutate({ roomId, body: ` ${family} and a\u200bb ` });
    expect(sent.body).toBe(`${family} and a\u200bb`);
    const { messages } = await ada.chat.history.query({ roomId });
    expect(messages.map((message) => message.body)).toEqual([`${family} and a\u200bb`]);
  });
});

describe('room names', () => {
  it('keeps names unique in every script, ignoring case, width and invisible characters', async () => {
    const taken = [
      ['日本語', '日本語'],
      ['Straße', 'STRASSE'],
      ['Ｗｉｄｅ Ｒｏｏｍ', 'wide room'],
      ['Москва', 'МОСКВА'],
      ['Ναός', 'ΝΑΌΣ'],
      ['한국어', ' 한국어 '],
    ];
    for (const [first, second] of taken) {
      await ada.rooms.create.mutate({ name: first ?? '' });
      expect(await failure(ada.rooms.create.mutate({ name: second ?? '' })), second).toEqual({
        code: 'CONFLICT',
        message: `A room named "${second?.trim()}" already exists`,
      });
    }
    const { rooms } = await ada.rooms.list.query({ query: '日本語' });
    expect(rooms.map((room) => room.name)).toEqual(['日本語']);
  });

  it('refuses names mixing look-alike scripts, next to the name field', async () => {
    const mixed = ['pаypal', 'Ωmega', 'Москва Moscow', 'gооgle'];
    for (const name of mixed) {
      expect(await fieldErrors(ada.rooms.create.mutate({ name })), name).toEqual({
        name: [
          'Room name mixes scripts that can look alike (such as Latin with Cyrillic or Greek letters); use one script',
        ],
      });
    }
    expect(await fieldErrors(ada.rooms.create.mutate({ name: '\u3164\u3164' }))).toEqual({
      name: ['Room name must contain a visible letter or digit'],
    });
  });

  it('allows the mixes UTS #39 calls highly restrictive, and scripts with combining marks', async () => {
    for (const name of [
      '東京 Tokyo たべもの',
      '台灣 ㄅㄆ Taipei',
      '서울 漢字 Seoul',
      'हिन्दी चर्चा',
    ]) {
      await expect(ada.rooms.create.mutate({ name }), name).resolves.toMatchObject({ name });
    }
  });
});
