import { messageBodyOf, roomMessageEvent } from '../payload.js';
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

/**
 * Centrifugo's JSON protocol over WebSocket (`/connection/websocket`): `connect` with the JWT,
 * then `subscribe` to the room's channel; publications arrive as `push.pub.data`. A frame may
 * hold several newline-separated replies (Centrifugo merges what is queued for one client), and
 * the server's ping is an empty `{}` that must be answered with `{}`.
 *
 * Senders publish from the client (client-side publish). They do not subscribe: the channel
 * allows publishing for connected clients too, so only the room's members get deliveries, as
 * with every other system.
 */

const CONNECT_ID = 1;
const SUBSCRIBE_ID = 2;
const PONG: Reading = { kind: 'reply', frame: '{}' };

const connect = (token: string) => JSON.stringify({ id: CONNECT_ID, connect: { token } });

function errorText(error: unknown): string {
  const { code, message } = fields(error);
  return `Centrifugo error ${String(code)}: ${String(message)}`;
}

/** Replies to our commands, pings and disconnects; null for pushes. */
function control(message: Record<string, unknown>): Reading | null {
  const { id, error, push } = message;
  if (id === undefined && push === undefined) return PONG;
  if (error !== undefined) {
    return typeof id === 'number'
      ? { kind: 'nack', id, error: errorText(error) }
      : { kind: 'error', error: errorText(error) };
  }
  const disconnect = fields(push).disconnect;
  if (disconnect !== undefined) {
    return { kind: 'error', error: `disconnected: ${JSON.stringify(disconnect)}` };
  }
  return null;
}

/** The `sub` claim of a JWT, to sign messages with the same author as the other systems. */
function subjectOf(token: string): string {
  const payload = token.split('.')[1] ?? '';
  const { sub } = fields(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  return typeof sub === 'string' ? sub : 'anon';
}

/** Connects with the token; pings, refusals and disconnects are read alike; `reply` does the rest. */
function centrifugoWire(
  token: string,
  reply: (message: Record<string, unknown>) => Reading | null,
): Wire {
  return {
    hello: [connect(token)],
    split: SPLITTERS.lines,
    read(raw) {
      const message = fields(raw);
      return control(message) ?? reply(message);
    },
  };
}

/** A room member: connect, then subscribe once connected; live once subscribed. */
export function centrifugoReceiverWire(token: string, roomId: string): Wire {
  return centrifugoWire(token, (message) => {
    if (message.id === CONNECT_ID) {
      const subscribe = { id: SUBSCRIBE_ID, subscribe: { channel: roomId } };
      return { kind: 'reply', frame: JSON.stringify(subscribe) };
    }
    if (message.id === SUBSCRIBE_ID) return { kind: 'live' };
    const body = messageBodyOf(fields(fields(message.push).pub).data);
    return body === null ? null : { kind: 'body', body };
  });
}

/** A sender: publishes the same event shape as the other systems carry, from the token's user. */
export function centrifugoSenderWire(token: string, roomId: string): SenderWire {
  const user = subjectOf(token);
  const author = { id: user, username: user };
  return {
    ...centrifugoWire(token, (message) => {
      if (message.id === CONNECT_ID) return { kind: 'live' };
      return typeof message.id === 'number' ? { kind: 'ack', id: message.id } : null;
    }),
    request: (id, body) =>
      JSON.stringify({
        id,
        publish: { channel: roomId, data: roomMessageEvent(id, roomId, author, body) },
      }),
  };
}

export const centrifugoClient: SystemClient = {
  receiver: (url, token, roomId, events) =>
    bareReceiver(url, centrifugoReceiverWire(token, roomId), events),
  sender: (url, token, roomId) => bareSender(url, centrifugoSenderWire(token, roomId)),
};
