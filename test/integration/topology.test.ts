import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ChatHubConnection, connect, createApiClient } from '../../src/client/index.js';
import { roleEnv } from '../helpers/deployEnv.js';
import { EventLog } from '../helpers/events.js';
import { freePort } from '../helpers/ports.js';
import { type ServerProcess, spawnServer } from '../helpers/process.js';
import { type RawResponse, RawSocket } from '../helpers/rawSocket.js';
import { NodeWebSocket, PASSWORD, TEST_SECRET } from '../helpers/server.js';

/**
 * The scale-out topology as separate processes, as in the compose file: one API server and two
 * chat servers sharing Redis and a MongoDB-protocol server (FerretDB unless MONGO_URL is set).
 * Each process gets the environment docker-compose.yml and the Kubernetes manifests give its role
 * (deploy/env/common.env and deploy/env/<role>.env); only what belongs to this machine is
 * overridden below: ports, public URLs, the Redis and MongoDB URLs, the data dir and the secret.
 */
const database = `chathub_topology_${randomBytes(4).toString('hex')}`;
const mongoUrl = (() => {
  const url = new URL(inject('mongoUrl'));
  url.pathname = `/${database}`;
  return url.toString();
})();
const dataDir = mkdtempSync(join(tmpdir(), 'chathub-topology-'));
const hostSpecific = {
  REDIS_URL: inject('redisUrl'),
  MONGO_URL: mongoUrl,
  JWT_SECRET: TEST_SECRET,
  DATA_DIR: dataDir,
};

let api: ServerProcess;
let apiUrl: string;
const chat: Record<'a' | 'b' | 'c', { process: ServerProcess | null; url: string }> = {
  a: { process: null, url: '' },
  b: { process: null, url: '' },
  c: { process: null, url: '' },
};
const people: { name: string; connection: ChatHubConnection; log: EventLog }[] = [];

async function startChat(which: 'a' | 'b' | 'c'): Promise<void> {
  const port = await freePort();
  chat[which].url = `ws://127.0.0.1:${port}/ws`;
  chat[which].process = await spawnServer({
    ...roleEnv('chat'),
    ...hostSpecific,
    PORT: String(port),
    PUBLIC_URL: chat[which].url,
  });
}

function tokenFor(id: string): string {
  return jwt.sign({ name: id }, TEST_SECRET, { algorithm: 'HS256', subject: id, expiresIn: 600 });
}

const messageIds = (log: EventLog) => log.messages().map((m) => m.id);
/** Ids of `message` events: a message delivered twice would appear twice here. */
const deliveredIds = (log: EventLog) =>
  log.received.flatMap((r) => (r.event.type === 'message' ? [r.event.message.id] : []));

beforeAll(async () => {
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  [api] = await Promise.all([
    spawnServer({ ...roleEnv('api'), ...hostSpecific, PORT: String(port) }),
    startChat('a'),
    startChat('b'),
  ]);
}, 60_000);

afterAll(async () => {
  for (const { log } of people) log.close();
  await Promise.allSettled(people.map(({ connection }) => connection.close()));
  await Promise.allSettled(
    [api, chat.a.process, chat.b.process, chat.c.process].map((p) => p?.stop('SIGTERM')),
  );
  const mongo = new MongoClient(mongoUrl);
  await mongo.db(database).dropDatabase();
  await mongo.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('one API server and two chat servers on Redis and MongoDB', { timeout: 90_000 }, () => {
  it('spreads users over both chat servers through discovery', async () => {
    for (let i = 0; i < 6; i++) {
      const name = `topo${i}-${randomBytes(2).toString('hex')}`;
      await createApiClient(apiUrl).auth.signUp.mutate({ username: name, password: PASSWORD });
      const connection = await connect({
        apiUrl,
        username: name,
        password: PASSWORD,
        WebSocket: NodeWebSocket,
      });
      const log = EventLog.open(connection, 'general');
      await log.waitFor(() => log.online() !== undefined, `${name} live`);
      people.push({ name, connection, log });
      // Give the chat server a moment to report its new load to discovery.
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const servers = new Set(people.map((p) => p.connection.session().chatUrl));
    expect(servers).toEqual(new Set([chat.a.url, chat.b.url]));
  });

  it('shows every message and vote on every client, in the same order, with a global online count', async () => {
    for (const { log } of people) await log.waitFor(() => log.online() === 6, 'six online');
    const sent = await Promise.all(
      people.flatMap(({ connection, name }) =>
        [1, 2].map((n) =>
          connection.chat.send.mutate({ roomId: 'general', body: `${name} #${n}` }),
        ),
      ),
    );
    const first = sent[0];
    if (!first) throw new Error('nothing sent');
    await people[5]?.connection.chat.vote.mutate({ messageId: first.id, vote: 'up' });
    await people[4]?.connection.chat.vote.mutate({ messageId: first.id, vote: 'down' });
    for (const { log } of people) {
      await log.waitFor(() => log.messages().length >= 12, 'twelve messages');
      await log.waitFor(
        () => log.messages().find((m) => m.id === first.id)?.down === 1,
        'both votes on the first message',
      );
    }
    const orders = people.map(({ log }) => messageIds(log).join(','));
    expect(new Set(orders).size).toBe(1);
    expect(people[0]?.log.messages().find((m) => m.id === first.id)).toMatchObject({
      up: 1,
      down: 1,
    });
  });

  it('keeps counts exact when 100 users on both servers vote on one message at once', async () => {
    const target = await people[0]?.connection.chat.send.mutate({
      roomId: 'general',
      body: 'vote!',
    });
    if (!target) throw new Error('no target');
    const voters = Array.from({ length: 100 }, (_, i) => {
      const raw = RawSocket.open(
        i % 2 ? chat.a.url : chat.b.url,
        tokenFor(`voter-${i}-${randomBytes(3).toString('hex')}`),
      );
      return raw;
    });
    const sockets = await Promise.all(voters);
    for (const [i, socket] of sockets.entries()) {
      socket.request(1, 'mutation', 'chat.vote', {
        messageId: target.id,
        vote: i < 70 ? 'up' : 'down',
      });
    }
    const answers = await Promise.all(sockets.map((socket) => socket.response(1, 20_000)));
    expect(answers.every((answer) => answer.result?.type === 'data')).toBe(true);
    for (const { log } of people) {
      await log.waitFor(
        () => {
          const seen = log.messages().find((m) => m.id === target.id);
          return seen?.up === 70 && seen.down === 30;
        },
        'exact totals everywhere',
        20_000,
      );
    }
    for (const socket of sockets) socket.close();
  });

  it('names who is online and who is typing on both chat servers', async () => {
    const everyone = people.map(({ connection }) => connection.session().user);
    const byId = (users: { id: string }[]) => users.map((user) => user.id).sort();
    for (const { log, name } of people) {
      await log.waitFor(
        () => JSON.stringify(byId(log.state().onlineUsers)) === JSON.stringify(byId(everyone)),
        `${name} lists everyone online`,
        15_000,
      );
    }
    const typist = people.find((p) => p.connection.session().chatUrl === chat.a.url);
    if (!typist) throw new Error('nobody on a');
    const me = typist.connection.session().user;
    await typist.connection.chat.typing.mutate({ roomId: 'general' });
    for (const { log, name, connection } of people) {
      if (connection === typist.connection) continue;
      await log.waitFor(
        () => log.state().typing.some((user) => user.id === me.id),
        `${name} on ${connection.session().chatUrl} sees the typist`,
      );
    }
    expect(typist.log.state().typing).toEqual([]);
    const sent = await typist.connection.chat.send.mutate({ roomId: 'general', body: 'typed it' });
    for (const { log, name } of people) {
      await log.waitFor(() => messageIds(log).includes(sent.id), `${name} got the message`);
      expect(log.state().typing).toEqual([]);
    }
  });

  it('posts a message once when its retry reaches the other chat server, even at the same moment', async () => {
    const sender = people[0];
    if (!sender) throw new Error('nobody');
    const token = sender.connection.session().token;
    const [onA, onB] = await Promise.all([
      RawSocket.open(chat.a.url, token),
      RawSocket.open(chat.b.url, token),
    ]);
    const send = (socket: RawSocket, id: number, clientMessageId: string) => {
      socket.request(id, 'mutation', 'chat.send', {
        roomId: 'general',
        body: 'once',
        clientMessageId,
      });
      return socket.response(id, 20_000);
    };
    const messageOf = (response: RawResponse) =>
      response.result?.data as { id: string } | undefined;
    const first = await send(onA, 1, 'retry-elsewhere');
    const retry = await send(onB, 1, 'retry-elsewhere');
    expect(messageOf(first)?.id).toBeDefined();
    expect(messageOf(retry)).toEqual(messageOf(first));
    const together = await Promise.all([
      send(onA, 2, 'both-at-once'),
      send(onB, 2, 'both-at-once'),
    ]);
    expect(messageOf(together[0])?.id).toBeDefined();
    expect(messageOf(together[1])).toEqual(messageOf(together[0]));
    const { messages } = await sender.connection.chat.history.query({
      roomId: 'general',
      limit: 100,
    });
    for (const clientMessageId of ['retry-elsewhere', 'both-at-once']) {
      expect(messages.filter((m) => m.clientMessageId === clientMessageId)).toHaveLength(1);
    }
    for (const { log, name } of people) {
      await log.waitFor(
        () => messageIds(log).includes(messageOf(together[0])?.id ?? ''),
        `${name} got it`,
      );
      const delivered = deliveredIds(log);
      expect(delivered.length, `${name} got no message twice`).toBe(new Set(delivered).size);
    }
    onA.close();
    onB.close();
  });

  it('moves clients of a killed chat server to the other one, without gaps or duplicates', async () => {
    // A user who never reconnects, to see the dead server's users leave the counts.
    const loner = await RawSocket.open(
      chat.a.url,
      tokenFor(`loner-${randomBytes(3).toString('hex')}`),
    );
    loner.request(1, 'subscription', 'chat.events', { roomId: 'general' });
    for (const { log } of people) await log.waitFor(() => log.online() === 7, 'the loner counted');

    const sender = people.find((p) => p.connection.session().chatUrl === chat.b.url);
    if (!sender) throw new Error('nobody on b');
    const sending = (async () => {
      for (let i = 0; i < 30; i++) {
        await sender.connection.chat.send.mutate({ roomId: 'general', body: `flow ${i}` });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const killedAt = Date.now();
    await chat.a.process?.stop('SIGKILL');
    chat.a.process = null;
    await sending;

    const stored = await sender.connection.chat.history.query({
      roomId: 'general',
      limit: 100,
    });
    const storedIds = stored.messages.map((m) => m.id);
    for (const { log, name } of people) {
      await log.waitFor(
        () => messageIds(log).includes(storedIds.at(-1) ?? ''),
        `${name} caught up`,
        30_000,
      );
      // Live order is the log's; stored history is by id. Same messages, each exactly once.
      expect([...messageIds(log)].sort()).toEqual([...storedIds].sort());
      const delivered = deliveredIds(log);
      expect(delivered.length, `${name} got no message twice`).toBe(new Set(delivered).size);
    }
    for (const { log } of people)
      await log.waitFor(() => log.online() === 6, 'the loner gone', 20_000);
    expect(Date.now() - killedAt, 'the loner left the counts within 15 s').toBeLessThanOrEqual(
      15_000,
    );
    loner.close();
  });

  it('drains a chat server on SIGTERM: it exits 0 within 10 s and its clients move on', async () => {
    await startChat('c');
    const b = chat.b.process;
    if (!b) throw new Error('b is not running');
    const startedAt = Date.now();
    expect(await b.stop('SIGTERM')).toBe(0);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    chat.b.process = null;

    const writer = people[0];
    if (!writer) throw new Error('no writer');
    let last: { id: string } | undefined;
    for (let attempt = 0; attempt < 40 && !last; attempt++) {
      last = await writer.connection.chat.send
        .mutate({ roomId: 'general', body: 'after the drain' })
        .catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 250));
          return undefined;
        });
    }
    if (!last) throw new Error('could not send after the drain');
    const id = last.id;
    for (const { log, name } of people) {
      await log.waitFor(() => messageIds(log).includes(id), `${name} on the new server`, 30_000);
    }
  });
});
