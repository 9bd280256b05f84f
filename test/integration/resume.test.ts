import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/contract/models.js';
import { EventLog } from '../helpers/events.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';
import { pollUntil } from '../helpers/wait.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/**
 * Keeps sending from several users (each within its rate limit) until `count` are stored. It
 * calls the chat service in-process, so the reconnects under test only affect the reader.
 */
async function keepSending(roomId: string, count: number, gapMs = 15): Promise<Message[]> {
  const senders = await Promise.all(
    [1, 2, 3, 4].map(async (i) => (await server.fastUser(uniqueName(`s${i}-`))).user),
  );
  const sent: Message[] = [];
  for (let i = 0; i < count; i++) {
    const sender = senders[i % senders.length];
    if (!sender) throw new Error('no sender');
    sent.push(await server.chat.messages.send(sender, { roomId, body: `n${i}` }));
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return sent;
}

async function storedIds(roomId: string, token: string): Promise<string[]> {
  const page = await server.chatClient(token).chat.chat.history.query({ roomId, limit: 100 });
  return page.messages.map((m) => m.id);
}

function expectExactlyOnce(ids: string[], expected: string[]): void {
  expect(ids.length).toBe(new Set(ids).size);
  expect(ids).toEqual(expected);
}

describe('resuming with lastEventId', () => {
  it('receives exactly what was missed while another client keeps sending', async () => {
    const roomId = (await server.running.services.rooms.create(uniqueName('resume'))).id;
    const reader = await server.user(uniqueName('reader'));
    const first = EventLog.open(reader, roomId);
    const sending = keepSending(roomId, 60);

    await first.waitFor(() => first.messages().length >= 10, 'some live messages');
    first.close();
    const lastEventId = first.lastId();
    const seen = first.messages().map((m) => m.id);
    await new Promise((resolve) => setTimeout(resolve, 150));

    const second = EventLog.open(reader, roomId, lastEventId);
    const sent = await sending;
    await second.waitFor(
      () => second.messages().some((m) => m.id === sent.at(-1)?.id),
      'the last message',
    );
    expect(second.received.some((r) => r.event.type === 'snapshot')).toBe(false);
    const resumed = second.received.flatMap((r) =>
      r.event.type === 'message' ? [r.event.message.id] : [],
    );
    expectExactlyOnce(
      [...seen, ...resumed],
      sent.map((m) => m.id),
    );
    expectExactlyOnce([...seen, ...resumed], await storedIds(roomId, reader.session().token));
  });

  it('resumes by itself after the server asks clients to reconnect, with messages still flowing', async () => {
    const roomId = (await server.running.services.rooms.create(uniqueName('reconnect'))).id;
    const { token } = await server.fastUser(uniqueName('follower'));
    const { chat } = server.chatClient(token);
    const ids: string[] = [];
    const subscription = chat.chat.events.subscribe(
      { roomId },
      {
        onData: ({ data }) => {
          if (data.type === 'snapshot') ids.push(...data.messages.map((m) => m.id));
          if (data.type === 'message') ids.push(data.message.id);
        },
      },
    );
    const sending = keepSending(roomId, 50);
    await pollUntil(() => ids.length >= 10);
    server.running.chat?.transport.broadcastReconnect();
    await pollUntil(() => ids.length >= 30);
    server.running.chat?.transport.broadcastReconnect();
    const sent = await sending;
    await pollUntil(() => ids.length >= sent.length);
    subscription.unsubscribe();
    expectExactlyOnce(
      ids,
      sent.map((m) => m.id),
    );
  });

  it('resumes after the connection drops abruptly', async () => {
    const roomId = (await server.running.services.rooms.create(uniqueName('drop'))).id;
    const { token } = await server.fastUser(uniqueName('dropper'));
    const { chat, socket } = server.chatClient(token);
    const ids: string[] = [];
    const subscription = chat.chat.events.subscribe(
      { roomId },
      {
        onData: ({ data }) => {
          if (data.type === 'message') ids.push(data.message.id);
        },
      },
    );
    const sending = keepSending(roomId, 40);
    await pollUntil(() => ids.length >= 10);
    socket.connection?.ws?.close();
    const sent = await sending;
    await pollUntil(() => ids.length >= sent.length);
    subscription.unsubscribe();
    expectExactlyOnce(
      ids,
      sent.map((m) => m.id),
    );
  });
});
