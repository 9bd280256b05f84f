import { createTRPCClient, TRPCClientError, type TRPCLink, wsLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRouter } from '../../src/appRouter.js';
import { type FollowedRoom, followRoom, type RoomFollower } from '../../src/client/roomFollower.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { Waiters } from '../helpers/wait.js';

/*
 * The typed client's sends against a real server when the connection fails mid-send: whether or
 * not the first attempt reached the server, the follower sends again with the same client id
 * and the room gets the message exactly once.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/**
 * Lets the first call on `path` reach the server, then reports the connection lost instead of its
 * answer; `attempts` lists the input of every call on `path`.
 */
function losingFirstAnswerTo(path: string) {
  let lost = false;
  const attempts: unknown[] = [];
  const link: TRPCLink<ChatRouter> =
    () =>
    ({ op, next }) =>
      observable((observer) => {
        if (op.path === path) attempts.push(op.input);
        const subscription = next(op).subscribe({
          next(result) {
            if (op.path === path && !lost) {
              lost = true;
              observer.error(TRPCClientError.from<ChatRouter>(new Error('WebSocket closed')));
              return;
            }
            observer.next(result);
          },
          error: (error) => observer.error(error),
          complete: () => observer.complete(),
        });
        return () => subscription.unsubscribe();
      });
  return { link, attempts };
}

async function follower(
  links: (socket: ReturnType<TestServer['chatClient']>['socket']) => TRPCLink<ChatRouter>[],
) {
  const { user, token } = await server.fastUser(uniqueName('sender'));
  const { socket } = server.chatClient(token);
  const client = createTRPCClient<ChatRouter>({ links: links(socket) });
  const { id: roomId } = await server.running.services.rooms.create(uniqueName('once'), user);
  const room = followRoom(client, { roomId, readerId: user.id, random: () => 0 });
  const waiters = new Waiters();
  room.subscribe(() => waiters.notify());
  const until = (condition: (state: FollowedRoom) => boolean, what: string) =>
    waiters.until(
      () => condition(room.getState()),
      () => what,
      15_000,
    );
  await until((state) => state.status.state === 'live', 'live');
  return { room, roomId, socket, until, reader: user };
}

async function stored(roomId: string, readerId: string) {
  const page = await server.chat.messages.history(
    { id: readerId, username: 'x' },
    { roomId, limit: 100 },
  );
  return page.messages;
}

function expectSentOnce(
  room: RoomFollower,
  messages: { body: string; clientMessageId: string | null }[],
) {
  expect(messages.map((m) => m.body)).toEqual(['only once']);
  expect(room.getState().messages.map((m) => m.body)).toEqual(['only once']);
  expect(room.getState().pending).toEqual([]);
}

describe('exactly-once sends from the room follower', () => {
  it('sends again with the same id when the answer was lost after the server stored it', async () => {
    const lossy = losingFirstAnswerTo('chat.send');
    const { room, roomId, until, reader } = await follower((socket) => [
      lossy.link,
      wsLink({ client: socket }),
    ]);
    const sent = await room.send('only once');
    expect(lossy.attempts).toHaveLength(2);
    expect(lossy.attempts[1]).toEqual(lossy.attempts[0]);
    await until((state) => state.pending.length === 0, 'the echo');
    const messages = await stored(roomId, reader.id);
    expectSentOnce(room, messages);
    expect(messages[0]).toMatchObject({ id: sent.id, clientMessageId: expect.any(String) });
    room.close();
  });

  it('sends again after the socket drops mid-send, and the room gets it once', async () => {
    const { room, roomId, socket, until, reader } = await follower((socket) => [
      wsLink({ client: socket }),
    ]);
    const sending = room.send('only once');
    socket.connection?.ws?.close();
    await sending;
    await until((state) => state.pending.length === 0 && state.messages.length === 1, 'the echo');
    expectSentOnce(room, await stored(roomId, reader.id));
    room.close();
  });
});
