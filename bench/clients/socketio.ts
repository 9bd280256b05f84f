import { io, type Socket } from 'socket.io-client';
import { ROOM_ID } from '../protocol.js';
import type {
  SocketIoAuth,
  SocketIoClientEvents,
  SocketIoServerEvents,
} from '../servers/socketio.js';
import type { Closable, ReceiverEvents, Sender, SystemClient } from './types.js';

type ClientSocket = Socket<SocketIoServerEvents, SocketIoClientEvents>;

function open(url: string, user: string): Promise<ClientSocket> {
  const auth: SocketIoAuth = { user };
  const socket: ClientSocket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: { ...auth },
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function closeSocket(socket: ClientSocket): Promise<void> {
  socket.disconnect();
  return Promise.resolve();
}

/** Socket.IO 4 client, WebSocket transport only, one Manager (connection) per client. */
export const socketIoClient: SystemClient = {
  async receiver(url, user, events: ReceiverEvents): Promise<Closable> {
    const socket = await open(url, user);
    socket.on('message', (event) => events.onBody(event.message.body));
    socket.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') events.onError(new Error(`disconnected: ${reason}`));
    });
    await new Promise<void>((resolve) => socket.emit('join', ROOM_ID, resolve));
    return { close: () => closeSocket(socket) };
  },

  async sender(url, user): Promise<Sender> {
    const socket = await open(url, user);
    return {
      async send(body) {
        await socket.emitWithAck('send', { roomId: ROOM_ID, body });
      },
      close: () => closeSocket(socket),
    };
  },
};
