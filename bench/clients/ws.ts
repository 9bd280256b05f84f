import { messageBodyOf } from '../payload.js';
import type { WsClientFrame } from '../servers/ws.js';
import {
  bareReceiver,
  bareSender,
  fields,
  type Reading,
  type SenderWire,
  SPLITTERS,
  type Wire,
} from './bare.js';
import type { SystemClient } from './types.js';

const address = (url: string, user: string) => `${url}?user=${encodeURIComponent(user)}`;
const frame = (value: WsClientFrame) => JSON.stringify(value);

export function wsReceiverWire(roomId: string): Wire {
  return {
    hello: [frame({ type: 'join', roomId })],
    split: SPLITTERS.single,
    read(message): Reading | null {
      const body = messageBodyOf(message);
      if (body !== null) return { kind: 'body', body };
      return fields(message).type === 'joined' ? { kind: 'live' } : null;
    },
  };
}

export function wsSenderWire(roomId: string): SenderWire {
  return {
    hello: [],
    liveOnOpen: true,
    split: SPLITTERS.single,
    read(message) {
      const { type, id } = fields(message);
      return type === 'ack' && typeof id === 'number' ? { kind: 'ack', id } : null;
    },
    request: (id, body) => frame({ type: 'send', id, roomId, body }),
  };
}

/** The bare `ws` baseline's client: JSON frames, nothing else. */
export const wsClient: SystemClient = {
  receiver: (url, user, roomId, events) =>
    bareReceiver(address(url, user), wsReceiverWire(roomId), events),
  sender: (url, user, roomId) => bareSender(address(url, user), wsSenderWire(roomId)),
};
