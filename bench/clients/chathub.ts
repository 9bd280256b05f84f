import {
  bareReceiver,
  bareSender,
  type FrameFormat,
  fields,
  type Reading,
  type SenderWire,
  SPLITTERS,
  type Wire,
} from './bare.js';
import type { SystemClient } from './types.js';

/**
 * ChatHub's tRPC WebSocket protocol spoken by hand, the way `@trpc/client`'s wsLink speaks it:
 * `?connectionParams=1`, a `connectionParams` frame carrying the token, then JSON-RPC requests.
 * A receiver subscribes to `chat.events` and is live once the snapshot arrives (the feed joins
 * the room before it reads the snapshot); each `message` event's body is counted.
 *
 * `format` is how a frame holds events. tRPC sends one message per frame (`single`); a wire mode
 * that merges several events into one frame is measured by adding a system whose client passes
 * its format here (and whatever it negotiates on connect, in `connectionParams`).
 */

const SUBSCRIPTION_ID = 1;
const READY_QUERY_ID = 0;
const KEEP_ALIVE = new Map([['PING', 'PONG']]);

function connectionParams(token: string, extra: Record<string, string>): string {
  return JSON.stringify({ method: 'connectionParams', data: { token, ...extra } });
}

function request(
  id: number,
  method: 'query' | 'mutation' | 'subscription',
  path: string,
  input: unknown,
): string {
  return JSON.stringify({ id, method, params: { path, input } });
}

function errorText(error: unknown): string {
  const { message, data } = fields(error);
  const code = fields(data).code;
  const text = typeof message === 'string' ? message : JSON.stringify(error);
  return typeof code === 'string' ? `${code}: ${text}` : text;
}

type Response = { id: unknown; result: Record<string, unknown> };

/** A JSON-RPC response with a result, or what its error (or a reconnect request) means. */
function response(message: unknown): Reading | Response | null {
  const { id, result, error, method } = fields(message);
  if (method === 'reconnect') {
    return { kind: 'error', error: 'the server asked clients to reconnect' };
  }
  if (error !== undefined) {
    return typeof id === 'number'
      ? { kind: 'nack', id, error: errorText(error) }
      : { kind: 'error', error: errorText(error) };
  }
  return result === undefined ? null : { id, result: fields(result) };
}

function eventReading({ result }: Response): Reading | null {
  if (result.type === 'stopped') {
    return { kind: 'error', error: 'subscription stopped by the server' };
  }
  if (result.type !== 'data') return null;
  // A tracked event: `data` is `{ id, data: ChatEvent }`.
  const event = fields(fields(result.data).data);
  if (event.type === 'message') {
    const body = fields(event.message).body;
    return typeof body === 'string' ? { kind: 'body', body } : null;
  }
  return event.type === 'snapshot' ? { kind: 'live' } : null;
}

function ackReading({ id }: Response): Reading | null {
  if (id === READY_QUERY_ID) return { kind: 'live' };
  return typeof id === 'number' ? { kind: 'ack', id } : null;
}

export interface ChatHubWireOptions {
  format: FrameFormat;
  /** WebSocket subprotocols to ask for (ChatHub's batched wire mode). */
  protocols?: string[];
  /** Extra connection params (e.g. a wire mode the client asks for). */
  connectionParams?: Record<string, string>;
}

const address = (url: string) => `${url}${url.includes('?') ? '&' : '?'}connectionParams=1`;

/** Connection params, then `first` request; results go to `onResult`, errors are read alike. */
function chatHubWire(
  token: string,
  { format, protocols, connectionParams: extra = {} }: ChatHubWireOptions,
  first: string,
  onResult: (response: Response) => Reading | null,
): Wire {
  return {
    ...(protocols ? { protocols } : {}),
    hello: [connectionParams(token, extra), first],
    control: KEEP_ALIVE,
    split: SPLITTERS[format],
    read(message) {
      const reply = response(message);
      return reply && 'result' in reply ? onResult(reply) : reply;
    },
  };
}

/** A room member: subscribes to `chat.events`; live at the snapshot; counts `message` bodies. */
export function chatHubReceiverWire(
  token: string,
  roomId: string,
  options: ChatHubWireOptions,
): Wire {
  const subscribe = request(SUBSCRIPTION_ID, 'subscription', 'chat.events', { roomId });
  return chatHubWire(token, options, subscribe, eventReading);
}

/**
 * A sender: `chat.send` mutations, acknowledged by their responses. The history query opens and
 * authenticates the connection without spending the user's message budget; its answer says the
 * sender may send.
 */
export function chatHubSenderWire(
  token: string,
  roomId: string,
  options: ChatHubWireOptions,
): SenderWire {
  const ready = request(READY_QUERY_ID, 'query', 'chat.history', { roomId, limit: 1 });
  return {
    ...chatHubWire(token, options, ready, ackReading),
    request: (id, body) => request(id, 'mutation', 'chat.send', { roomId, body }),
  };
}

export function chatHubClient(options: ChatHubWireOptions): SystemClient {
  return {
    receiver: (url, token, roomId, events) =>
      bareReceiver(address(url), chatHubReceiverWire(token, roomId, options), events),
    sender: (url, token, roomId) =>
      bareSender(address(url), chatHubSenderWire(token, roomId, options)),
  };
}
