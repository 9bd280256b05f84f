import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { roomMessageEvent } from '../payload.js';
import { identities, type StartSystem } from './types.js';

/** What a baseline client sends: join a room, or post a message to one (acknowledged by id). */
export type WsClientFrame =
  | { type: 'join'; roomId: string }
  | { type: 'send'; id: number; roomId: string; body: string };

export type WsServerFrame = { type: 'joined' } | { type: 'ack'; id: number };

function parseClientFrame(data: RawData): WsClientFrame | null {
  try {
    const frame: unknown = JSON.parse(data.toString());
    if (typeof frame !== 'object' || frame === null) return null;
    const { type, id, roomId, body } = frame as Record<string, unknown>;
    if (typeof roomId !== 'string') return null;
    if (type === 'join') return { type, roomId };
    if (type === 'send' && typeof id === 'number' && typeof body === 'string') {
      return { type, id, roomId, body };
    }
  } catch {
    // not JSON: ignored
  }
  return null;
}

/**
 * The floor: a bare `ws` server. Each message is stringified once, turned into one Buffer, and
 * that Buffer is written to every member of its room. No storage, no auth, no protocol envelope.
 */
export const startWsBaseline: StartSystem = async ({ receivers, senders }) => {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const rooms = new Map<string, Set<WebSocket>>();
  let seq = 0;

  wss.on('connection', (ws, req) => {
    const user = new URL(req.url ?? '/', 'http://localhost').searchParams.get('user') ?? 'anon';
    const author = { id: user, username: user };
    const reply = (frame: WsServerFrame) => ws.send(JSON.stringify(frame));
    ws.on('message', (data) => {
      const frame = parseClientFrame(data);
      if (frame?.type === 'join') {
        const members = rooms.get(frame.roomId) ?? new Set();
        rooms.set(frame.roomId, members);
        members.add(ws);
        ws.once('close', () => members.delete(ws));
        reply({ type: 'joined' });
      } else if (frame?.type === 'send') {
        seq += 1;
        const bytes = Buffer.from(
          JSON.stringify(roomMessageEvent(seq, frame.roomId, author, frame.body)),
        );
        for (const member of rooms.get(frame.roomId) ?? []) {
          if (member.readyState === WebSocket.OPEN) member.send(bytes, { binary: false });
        }
        reply({ type: 'ack', id: frame.id });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: {
      url: `ws://127.0.0.1:${port}/`,
      receiverCredentials: identities('bench-r', receivers),
      senderCredentials: identities('bench-s', senders),
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
