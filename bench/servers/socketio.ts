import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { type RoomMessageEvent, roomMessageEvent } from '../payload.js';
import { identities, type StartSystem } from './types.js';

export interface SocketIoServerEvents {
  message(event: RoomMessageEvent): void;
}

export interface SocketIoClientEvents {
  join(roomId: string, ack: () => void): void;
  send(input: { roomId: string; body: string }, ack: (reply: { id: string }) => void): void;
}

export interface SocketIoAuth {
  user: string;
}

/** Socket.IO 4 with the in-memory adapter, WebSocket transport only; `to(room).emit` encodes once. */
export const startSocketIoBaseline: StartSystem = async ({ receivers, senders }) => {
  const server = createServer();
  const io = new Server<SocketIoClientEvents, SocketIoServerEvents>(server, {
    transports: ['websocket'],
    serveClient: false,
  });
  let seq = 0;

  io.on('connection', (socket) => {
    const auth = socket.handshake.auth as Partial<SocketIoAuth>;
    const user = typeof auth.user === 'string' ? auth.user : 'anon';
    const author = { id: user, username: user };
    socket.on('join', (roomId, ack) => {
      void socket.join(roomId);
      ack();
    });
    socket.on('send', ({ roomId, body }, ack) => {
      seq += 1;
      const event = roomMessageEvent(seq, roomId, author, body);
      io.to(roomId).emit('message', event);
      ack({ id: event.message.id });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: {
      url: `http://127.0.0.1:${port}`,
      receiverCredentials: identities('bench-r', receivers),
      senderCredentials: identities('bench-s', senders),
    },
    async close() {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      server.closeAllConnections();
    },
  };
};
