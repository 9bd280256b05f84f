import { io, type Socket } from 'socket.io-client';
import { messageBodyOf } from '../payload.js';
import type {
  SocketIoAuth,
  SocketIoClientEvents,
  SocketIoServerEvents,
} from '../servers/socketio.js';
import { bareReceiver, type Reading, type Wire } from './bare.js';
import type { Sender, SystemClient } from './types.js';

type ClientSocket = Socket<SocketIoServerEvents, SocketIoClientEvents>;

/**
 * Socket.IO 4's wire (Engine.IO 4 over WebSocket, one packet per frame) read by hand: the
 * receiver answers the open packet with a namespace CONNECT carrying its auth, then emits `join`
 * with ack id 0, and is live when that ack arrives. `42["message",{…}]` packets carry the
 * events; `2` is the server's ping. Packets are text, so the "split" keeps the frame whole.
 */
const PING = new Map([['2', '3']]);
const JOIN_ACK = '430';

function receiverAddress(url: string): string {
  const base = new URL(url);
  base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  base.pathname = '/socket.io/';
  base.search = '?EIO=4&transport=websocket';
  return base.toString();
}

function packetReading(packet: string, user: string, roomId: string): Reading | null {
  if (packet.startsWith('42')) {
    const [name, event] = JSON.parse(packet.slice(2)) as [unknown, unknown];
    const body = name === 'message' ? messageBodyOf(event) : null;
    return body === null ? null : { kind: 'body', body };
  }
  if (packet.startsWith(JOIN_ACK)) return { kind: 'live' };
  const auth: SocketIoAuth = { user };
  if (packet.startsWith('0')) return { kind: 'reply', frame: `40${JSON.stringify(auth)}` };
  if (packet.startsWith('40')) {
    return { kind: 'reply', frame: `420${JSON.stringify(['join', roomId])}` };
  }
  if (packet.startsWith('44')) return { kind: 'error', error: `connect refused: ${packet}` };
  if (packet.startsWith('41')) return { kind: 'error', error: 'disconnected by the server' };
  return null;
}

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

export function socketIoReceiverWire(user: string, roomId: string): Wire {
  return {
    hello: [],
    control: PING,
    split: (text) => [text],
    read: (packet) => (typeof packet === 'string' ? packetReading(packet, user, roomId) : null),
  };
}

/** Receivers: bare. Senders: the stock socket.io-client, one Manager (connection) each. */
export const socketIoClient: SystemClient = {
  receiver: (url, user, roomId, events) =>
    bareReceiver(receiverAddress(url), socketIoReceiverWire(user, roomId), events),

  async sender(url, user, roomId): Promise<Sender> {
    const socket = await open(url, user);
    return {
      async send(body) {
        await socket.emitWithAck('send', { roomId, body });
      },
      close: async () => {
        socket.disconnect();
      },
    };
  },
};
