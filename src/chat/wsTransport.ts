import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  type AnyTRPCRouter,
  callTRPCProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  type inferRouterContext,
  isTrackedEnvelope,
  TRPCError,
  type TRPCProcedureType,
  transformTRPCResponse,
} from '@trpc/server';
import { parseConnectionParamsFromUnknown } from '@trpc/server/http';
import { type JSONRPC2, parseTRPCMessage, type TRPCResponseMessage } from '@trpc/server/rpc';
import { WebSocket } from 'ws';
import { RateLimiter } from '../domain/rateLimiter.js';
import { toTRPCError } from '../trpc/init.js';
import { type FeedSink, isPipeable } from './feedSink.js';
import type { SharedEvent } from './sharedEvent.js';

/**
 * The tRPC WebSocket protocol (the one `@trpc/client`'s wsLink speaks), served from one file.
 * Queries and mutations go through tRPC's own procedure caller. Subscriptions whose result is
 * pipeable (room feeds) skip the per-subscriber async iterator: each room event is encoded once
 * per distinct request id and the same bytes go to every member, like a plain `ws` broadcast.
 */

export interface TransportLimits {
  /** Largest accepted frame; larger ones get PAYLOAD_TOO_LARGE and are not parsed. */
  maxFrameBytes: number;
  /** Most requests one frame may batch. */
  maxBatch: number;
  /** Most live subscriptions on one connection. */
  maxSubscriptions: number;
  /** Requests per second one connection may make, after a burst. */
  requestsPerSecond: number;
  requestBurst: number;
  /** A client that lets this much output pile up is too slow: it is dropped and may resume. */
  maxBufferedBytes: number;
  pingMs: number;
  pongWaitMs: number;
}

export const DEFAULT_LIMITS: TransportLimits = {
  maxFrameBytes: 64 * 1024,
  maxBatch: 50,
  maxSubscriptions: 32,
  requestsPerSecond: 50,
  requestBurst: 100,
  maxBufferedBytes: 8 * 1024 * 1024,
  pingMs: 30_000,
  pongWaitMs: 5_000,
};

/** Close codes in the application range; the tRPC client reconnects after any of them. */
export const CLOSE_SESSION_EXPIRED = 4001;
export const CLOSE_TOO_SLOW = 4008;

export interface WsTransportOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  createContext(opts: {
    req: IncomingMessage;
    connectionParams: Record<string, string | undefined> | null;
  }): inferRouterContext<TRouter> | Promise<inferRouterContext<TRouter>>;
  /** When the connection's credentials lapse (epoch ms); it is closed then, to re-authenticate. */
  expiresAt?(ctx: inferRouterContext<TRouter>): number | null;
  onError?(error: TRPCError, info: { path: string | undefined; type: string }): void;
  /** Called whenever a connection opens or closes (this server's load changed). */
  onConnectionsChanged?(): void;
  limits?: Partial<TransportLimits>;
}

export interface WsTransport {
  handleConnection(ws: WebSocket, req: IncomingMessage): void;
  /** Asks every client to reconnect (elsewhere). */
  broadcastReconnect(): void;
  /**
   * For shutdown: refuses new requests (SERVICE_UNAVAILABLE), lets the ones under way finish (up
   * to `timeoutMs`), then asks every client to reconnect elsewhere.
   */
  drain(timeoutMs: number): Promise<void>;
  connectionCount(): number;
}

type RequestId = JSONRPC2.RequestId;

interface EventEncoding {
  /** Everything after the request id, shared by all subscribers. */
  tail: string;
  frames: Map<string, Buffer>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const RECONNECT_FRAME = JSON.stringify({ id: null, method: 'reconnect' });

export function createWsTransport<TRouter extends AnyTRPCRouter>(
  options: WsTransportOptions<TRouter>,
): WsTransport {
  type Ctx = inferRouterContext<TRouter>;
  const { router } = options;
  const config = router._def._config;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const requestLimiter = new RateLimiter({
    perSecond: limits.requestsPerSecond,
    burst: limits.requestBurst,
  });
  const connections = new Set<WebSocket>();
  const inFlight = new Set<Promise<void>>();
  let draining = false;
  const encodings = new WeakMap<SharedEvent, EventEncoding>();
  const writes = createTurnBatcher();
  let nextConnectionId = 0;

  const encodingOf = (event: SharedEvent): EventEncoding => {
    let encoding = encodings.get(event);
    if (!encoding) {
      const data = config.transformer.output.serialize({ id: event.id, data: event.event });
      encoding = {
        tail: `,"result":{"type":"data","id":${JSON.stringify(event.id)},"data":${JSON.stringify(data)}}}`,
        frames: new Map(),
      };
      encodings.set(event, encoding);
    }
    return encoding;
  };

  const sharedFrame = (event: SharedEvent, prefix: string): Buffer => {
    const encoding = encodingOf(event);
    let frame = encoding.frames.get(prefix);
    if (!frame) {
      frame = Buffer.from(prefix + encoding.tail);
      encoding.frames.set(prefix, frame);
    }
    return frame;
  };

  function handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const connectionId = String(nextConnectionId++);
    const subscriptions = new Map<RequestId, AbortController>();
    let ctx: Ctx | undefined;
    let expiryTimer: NodeJS.Timeout | undefined;
    connections.add(ws);
    options.onConnectionsChanged?.();

    const send = (data: string | Buffer) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: false });
    };
    const respond = (message: TRPCResponseMessage) =>
      send(JSON.stringify(transformTRPCResponse(config, message)));

    const respondError = (
      id: RequestId,
      jsonrpc: '2.0' | undefined,
      cause: unknown,
      call?: { type: TRPCProcedureType; path: string; input: unknown },
    ) => {
      const error = toTRPCError(cause);
      options.onError?.(error, { path: call?.path, type: call?.type ?? 'unknown' });
      respond({
        id,
        jsonrpc,
        error: getErrorShape({
          config,
          error,
          type: call?.type ?? 'unknown',
          path: call?.path,
          input: call?.input,
          ctx,
        }),
      });
    };

    const startContext = async (
      connectionParams: Record<string, string | undefined> | null,
    ): Promise<Ctx> => {
      ctx = await options.createContext({ req, connectionParams });
      const expiresAt = options.expiresAt?.(ctx);
      const delay = expiresAt == null ? null : expiresAt - Date.now();
      // Already-expired credentials are refused call by call instead: closing now would only
      // make the client reconnect with the same token again and again.
      if (delay !== null && delay > 0 && delay < MAX_TIMER_MS) {
        expiryTimer = setTimeout(() => ws.close(CLOSE_SESSION_EXPIRED, 'session expired'), delay);
      }
      return ctx;
    };

    const wantsConnectionParams =
      new URL(req.url ?? '/', 'http://localhost').searchParams.get('connectionParams') === '1';
    let ctxPromise: Promise<Ctx> | null = wantsConnectionParams ? null : startContext(null);
    ctxPromise?.catch(() => {});

    const keepAlive = startKeepAlive(ws, limits.pingMs, limits.pongWaitMs);

    function subscriptionSink(id: RequestId, jsonrpc: '2.0' | undefined): FeedSink {
      const prefix = `{"id":${JSON.stringify(id)}${jsonrpc ? ',"jsonrpc":"2.0"' : ''}`;
      return {
        shared(event) {
          if (ws.bufferedAmount > limits.maxBufferedBytes) {
            ws.terminate();
            return;
          }
          writes.beforeWrite(req.socket);
          send(sharedFrame(event, prefix));
        },
        own(eventId, data) {
          respond({
            id,
            jsonrpc,
            result: { type: 'data', id: eventId, data: { id: eventId, data } },
          });
        },
      };
    }

    async function runSubscription(
      id: RequestId,
      jsonrpc: '2.0' | undefined,
      result: unknown,
      signal: AbortSignal,
    ): Promise<void> {
      if (isPipeable(result)) {
        await result.pipe(subscriptionSink(id, jsonrpc), signal);
        return;
      }
      if (!isAsyncIterable(result)) {
        throw new TRPCError({
          code: 'INTERNAL_SERVER_ERROR',
          message: 'Subscription did not return an async iterable',
        });
      }
      const iterator = result[Symbol.asyncIterator]();
      const aborted = new Promise<'aborted'>((resolve) =>
        signal.addEventListener('abort', () => resolve('aborted'), { once: true }),
      );
      try {
        while (!signal.aborted) {
          const next = await Promise.race([iterator.next(), aborted]);
          if (next === 'aborted' || next.done) break;
          const value: unknown = next.value;
          respond({
            id,
            jsonrpc,
            result: isTrackedEnvelope(value)
              ? { type: 'data', id: value[0], data: { id: value[0], data: value[1] } }
              : { type: 'data', data: value },
          });
        }
      } finally {
        await iterator.return?.();
      }
      subscriptions.delete(id);
      respond({ id, jsonrpc, result: { type: 'stopped' } });
    }

    async function handleRequest(raw: unknown, batchIndex: number): Promise<void> {
      let message: ReturnType<typeof parseTRPCMessage>;
      try {
        message = parseTRPCMessage(raw, config.transformer);
      } catch (cause) {
        respondError(idOf(raw), undefined, new TRPCError({ code: 'PARSE_ERROR', cause }));
        return;
      }
      const { id, jsonrpc } = message;
      if (id === null) {
        respondError(
          id,
          jsonrpc,
          new TRPCError({ code: 'PARSE_ERROR', message: '`id` is required' }),
        );
        return;
      }
      if (message.method === 'subscription.stop') {
        subscriptions.get(id)?.abort();
        subscriptions.delete(id);
        return;
      }
      const { path, lastEventId } = message.params;
      const type = message.method;
      const input = withLastEventId(message.params.input, lastEventId);
      const call = { type, path, input };

      if (draining) {
        const restarting = 'This chat server is restarting; your client will reconnect to another';
        respondError(
          id,
          jsonrpc,
          new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: restarting }),
          call,
        );
        return;
      }
      if (!requestLimiter.tryTake(connectionId)) {
        respondError(id, jsonrpc, tooManyRequests('Too many requests on this connection'), call);
        return;
      }
      const abort = new AbortController();
      if (type === 'subscription') {
        if (subscriptions.has(id)) {
          respondError(
            id,
            jsonrpc,
            new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` }),
            call,
          );
          return;
        }
        if (subscriptions.size >= limits.maxSubscriptions) {
          respondError(
            id,
            jsonrpc,
            tooManyRequests(`At most ${limits.maxSubscriptions} subscriptions per connection`),
            call,
          );
          return;
        }
        subscriptions.set(id, abort);
      }
      try {
        if (!ctxPromise)
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'Connection params missing' });
        const result = await callTRPCProcedure({
          router,
          path,
          getRawInput: async () => input,
          ctx: await ctxPromise,
          type,
          signal: abort.signal,
          batchIndex,
        });
        if (type !== 'subscription') {
          respond({ id, jsonrpc, result: { type: 'data', data: result } });
          return;
        }
        if (abort.signal.aborted || ws.readyState !== WebSocket.OPEN) return;
        respond({ id, jsonrpc, result: { type: 'started' } });
        await runSubscription(id, jsonrpc, result, abort.signal);
      } catch (cause) {
        if (subscriptions.get(id) === abort) subscriptions.delete(id);
        abort.abort();
        respondError(id, jsonrpc, cause, call);
      }
    }

    ws.on('message', (data, isBinary) => {
      keepAlive.activity();
      const frame = toBuffer(data);
      if (!isBinary && frame.length === 4) {
        const text = frame.toString('utf8');
        if (text === 'PING') return send('PONG');
        if (text === 'PONG') return;
      }
      if (frame.length > limits.maxFrameBytes) {
        respondError(
          null,
          undefined,
          new TRPCError({
            code: 'PAYLOAD_TOO_LARGE',
            message: `Frames may be at most ${limits.maxFrameBytes} bytes`,
          }),
        );
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(frame.toString('utf8'));
      } catch (cause) {
        respondError(
          null,
          undefined,
          new TRPCError({ code: 'PARSE_ERROR', message: 'Frame is not valid JSON', cause }),
        );
        return;
      }
      if (!ctxPromise) {
        ctxPromise = Promise.resolve(parsed).then((first) =>
          startContext(connectionParamsOf(first)),
        );
        ctxPromise.catch((cause: unknown) => {
          respondError(null, undefined, cause);
          ws.close(1008, 'invalid connection params');
        });
        return;
      }
      const requests = Array.isArray(parsed) ? parsed : [parsed];
      if (requests.length > limits.maxBatch) {
        respondError(
          null,
          undefined,
          new TRPCError({
            code: 'PAYLOAD_TOO_LARGE',
            message: `At most ${limits.maxBatch} requests per frame`,
          }),
        );
        return;
      }
      requests.forEach((request, index) => {
        const handled = handleRequest(request, index);
        const settle = () => inFlight.delete(handled);
        inFlight.add(handled);
        handled.then(settle, settle);
      });
    });

    ws.on('error', (cause) => {
      options.onError?.(getTRPCErrorFromUnknown(cause), { path: undefined, type: 'unknown' });
    });

    ws.once('close', () => {
      connections.delete(ws);
      options.onConnectionsChanged?.();
      keepAlive.stop();
      clearTimeout(expiryTimer);
      for (const subscription of subscriptions.values()) subscription.abort();
      subscriptions.clear();
    });
  }

  const broadcastReconnect = () => {
    for (const ws of connections) {
      if (ws.readyState === WebSocket.OPEN) ws.send(RECONNECT_FRAME);
    }
  };

  return {
    handleConnection,
    broadcastReconnect,
    async drain(timeoutMs) {
      draining = true;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
      clearTimeout(timer);
      broadcastReconnect();
    },
    connectionCount: () => connections.size,
  };
}

/**
 * Room events reach a member as one write per event, and a write is a syscall. When a member gets
 * a second event within one event-loop turn (a burst), its socket is corked until the turn ends,
 * so the rest of the burst leaves in one syscall. A lone event is written at once: corking it
 * would only hold it back until every other member had been served.
 */
function createTurnBatcher() {
  let turn = new Map<Socket, 'written' | 'corked'>();
  const endTurn = () => {
    const ended = turn;
    turn = new Map();
    for (const [socket, state] of ended) if (state === 'corked') socket.uncork();
  };
  return {
    beforeWrite(socket: Socket): void {
      const state = turn.get(socket);
      if (state === 'corked') return;
      if (turn.size === 0) setImmediate(endTurn);
      if (state === 'written') socket.cork();
      turn.set(socket, state === 'written' ? 'corked' : 'written');
    },
  };
}

/** tRPC's keep-alive: text PING after an idle spell; no answer in time ends the connection. */
function startKeepAlive(ws: WebSocket, pingMs: number, pongWaitMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const schedulePing = () => {
    timer = setTimeout(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send('PING');
      timer = setTimeout(() => ws.terminate(), pongWaitMs);
    }, pingMs);
  };
  schedulePing();
  return {
    activity() {
      clearTimeout(timer);
      schedulePing();
    },
    stop() {
      clearTimeout(timer);
    },
  };
}

function connectionParamsOf(message: unknown): Record<string, string | undefined> | null {
  if (
    typeof message !== 'object' ||
    message === null ||
    (message as { method?: unknown }).method !== 'connectionParams'
  ) {
    throw new TRPCError({
      code: 'PARSE_ERROR',
      message: 'The first frame must carry connectionParams',
    });
  }
  return parseConnectionParamsFromUnknown((message as { data?: unknown }).data);
}

/** The client resends the last tracked id it saw; the procedure reads it from its input. */
function withLastEventId(input: unknown, lastEventId: string | undefined): unknown {
  if (lastEventId === undefined) return input;
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    return { ...input, lastEventId };
  }
  return input ?? { lastEventId };
}

function idOf(raw: unknown): RequestId {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : null;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

function tooManyRequests(message: string): TRPCError {
  return new TRPCError({ code: 'TOO_MANY_REQUESTS', message });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
