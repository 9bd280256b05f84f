import type { IncomingMessage } from 'node:http';
import {
  type AnyTRPCRouter,
  callTRPCProcedure,
  getErrorShape,
  type inferRouterContext,
  isTrackedEnvelope,
  TRPCError,
  type TRPCProcedureType,
  transformTRPCResponse,
} from '@trpc/server';
import { type JSONRPC2, parseTRPCMessage, type TRPCResponseMessage } from '@trpc/server/rpc';
import { WebSocket } from 'ws';
import { toTRPCError } from '../trpc/init.js';
import type { TransportMetrics } from './chatMetrics.js';
import {
  CLOSE_BAD_CONNECTION_PARAMS,
  CLOSE_INVALID_FRAME,
  CLOSE_NOT_AUTHENTICATED,
  CLOSE_SESSION_EXPIRED,
  CLOSE_TOO_MANY_CONNECTIONS,
  CLOSE_TOO_MANY_REQUESTS,
  CLOSE_TOO_SLOW,
} from './closeCodes.js';
import { ConnectionSlots } from './connectionSlots.js';
import { callAt, type Deadline } from './deadline.js';
import { type FeedSink, isPipeable } from './feedSink.js';
import { startKeepAlive } from './keepAlive.js';
import {
  connectionParamsOf,
  type IncomingRequest,
  jsonrpcOf,
  parseFrame,
  requestsIn,
  withLastEventId,
} from './protocol.js';
import { RequestBudget } from './requestBudget.js';
import { createSharedFrames, responsePrefix } from './sharedFrames.js';
import { DEFAULT_LIMITS, type TransportLimits } from './transportLimits.js';
import { createTurnBatcher } from './turnBatcher.js';

export * from './closeCodes.js';
export { DEFAULT_LIMITS, maxFrameBytes, type TransportLimits } from './transportLimits.js';

/**
 * The tRPC WebSocket protocol (the one `@trpc/client`'s wsLink speaks). Queries and mutations go
 * through tRPC's own procedure caller. Subscriptions whose result is pipeable (room feeds) skip
 * the per-subscriber async iterator: each room event is encoded once and the same bytes go to
 * every member, like a plain `ws` broadcast.
 *
 * Bounded against any client: every request id gets an answer or the socket closes; every
 * answer, refusals included, spends from the connection's request budget; every byte queued for
 * a client counts against one output budget; a connection has a deadline to authenticate; and
 * connections are capped per address (at the upgrade, see socketServer.ts) and per user.
 */

/** Who a connection's credentials identify, and until when. */
export interface SessionInfo {
  userId: string;
  expiresAt: number;
}

export interface WsTransportOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  createContext(opts: {
    req: IncomingMessage;
    connectionParams: Record<string, string | undefined> | null;
  }): inferRouterContext<TRouter> | Promise<inferRouterContext<TRouter>>;
  /** The session a context carries, or null when its credentials are missing or invalid. */
  sessionOf(ctx: inferRouterContext<TRouter>): SessionInfo | null;
  onError?(error: TRPCError, info: { path: string | undefined; type: string }): void;
  /** Called whenever the number of authenticated connections (this server's load) changes. */
  onConnectionsChanged?(): void;
  limits?: Partial<TransportLimits>;
  metrics?: TransportMetrics;
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
  /** Authenticated connections: the load discovery balances on. */
  connectionCount(): number;
  /** The most output any one connection has queued and not yet handed to the network, in bytes. */
  largestBacklog(): number;
}

type RequestId = JSONRPC2.RequestId;

const RECONNECT_FRAME = JSON.stringify({ id: null, method: 'reconnect' });
const TOO_MANY_REQUESTS = new TRPCError({
  code: 'TOO_MANY_REQUESTS',
  message: 'Too many requests on this connection',
});
/** Shared by every write: room frames are Buffers, which `ws` would otherwise send as binary. */
const TEXT_FRAME = { binary: false } as const;

export function createWsTransport<TRouter extends AnyTRPCRouter>(
  options: WsTransportOptions<TRouter>,
): WsTransport {
  type Ctx = inferRouterContext<TRouter>;
  const { router } = options;
  const config = router._def._config;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const connections = new Set<WebSocket>();
  const userSlots = new ConnectionSlots(limits.maxConnectionsPerUser);
  let authenticated = 0;
  const inFlight = new Set<Promise<void>>();
  let draining = false;
  const sharedFrames = createSharedFrames((data) => config.transformer.output.serialize(data));
  const writes = createTurnBatcher();

  /** Requests under way, for a drain to wait on. */
  const track = (handled: Promise<void>) => {
    const settle = () => inFlight.delete(handled);
    inFlight.add(handled);
    handled.then(settle, settle);
  };

  const authenticatedChanged = (by: 1 | -1) => {
    authenticated += by;
    options.onConnectionsChanged?.();
  };

  function handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const subscriptions = new Map<RequestId, AbortController>();
    const budget = new RequestBudget(limits.requestsPerSecond, limits.requestBurst);
    let ctx: Ctx | undefined;
    /** Set when the user already holds every connection allowed: calls get this error. */
    let refusal: TRPCError | null = null;
    let leaveUserSlot: (() => void) | null = null;
    let expiry: Deadline | null = null;
    let cutTimer: NodeJS.Timeout | undefined;
    connections.add(ws);

    /** Closes with `code`; a client that does not complete the closing handshake is cut off. */
    const closeWith = (code: number, reason: string) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.close(code, reason);
      cutTimer = setTimeout(() => ws.terminate(), limits.closeTimeoutMs);
    };

    const authDeadline = setTimeout(() => {
      if (refusal) closeWith(CLOSE_TOO_MANY_CONNECTIONS, 'too many connections for this user');
      else closeWith(CLOSE_NOT_AUTHENTICATED, 'not authenticated in time');
    }, limits.authTimeoutMs);

    const stopSubscriptions = () => {
      for (const subscription of subscriptions.values()) subscription.abort();
      subscriptions.clear();
    };

    /**
     * The one output budget: every write checks it first. A client this far behind is not
     * reading; it is closed (and cut after `closeTimeoutMs` if even that cannot get out).
     */
    const writable = (): boolean => {
      if (ws.readyState !== WebSocket.OPEN) return false;
      if (ws.bufferedAmount <= limits.maxBufferedBytes) return true;
      closeWith(CLOSE_TOO_SLOW, 'too slow: reconnect and resume');
      options.metrics?.slowConsumerDropped();
      stopSubscriptions();
      return false;
    };
    const send = (data: string) => {
      if (writable()) ws.send(data, TEXT_FRAME);
    };
    const respond = (message: TRPCResponseMessage) =>
      send(JSON.stringify(transformTRPCResponse(config, message)));

    const errorShape = (
      error: TRPCError,
      call?: { type: TRPCProcedureType; path: string; input: unknown },
    ) =>
      getErrorShape({
        config,
        error,
        type: call?.type ?? 'unknown',
        path: call?.path,
        input: call?.input,
        ctx,
      });

    const respondError = (
      id: RequestId,
      jsonrpc: '2.0' | undefined,
      cause: unknown,
      call?: { type: TRPCProcedureType; path: string; input: unknown },
    ) => {
      const error = toTRPCError(cause);
      options.onError?.(error, { path: call?.path, type: call?.type ?? 'unknown' });
      respond({ id, jsonrpc, error: errorShape(error, call) });
    };

    /** Counts the connection as load once it has a valid session and a slot for its user. */
    const authenticate = (context: Ctx) => {
      const session = options.sessionOf(context);
      // Credentials that are missing, invalid or already expired are refused call by call and
      // the connection closes at the deadline: closing at once would only make the client
      // reconnect with the same token again and again.
      if (!session || session.expiresAt <= Date.now() || ws.readyState !== WebSocket.OPEN) return;
      const leave = userSlots.tryTake(session.userId);
      if (!leave) {
        refusal = tooManyRequests(
          `This account already has ${limits.maxConnectionsPerUser} chat connections open here; close one (another tab or device) and try again`,
        );
        return;
      }
      leaveUserSlot = leave;
      clearTimeout(authDeadline);
      authenticatedChanged(1);
      expiry = callAt(session.expiresAt, () => closeWith(CLOSE_SESSION_EXPIRED, 'session expired'));
    };

    const startContext = async (
      connectionParams: Record<string, string | undefined> | null,
    ): Promise<Ctx> => {
      const created = await options.createContext({ req, connectionParams });
      ctx = created;
      authenticate(created);
      return created;
    };

    const wantsConnectionParams =
      new URL(req.url ?? '/', 'http://localhost').searchParams.get('connectionParams') === '1';
    let ctxPromise: Promise<Ctx> | null = wantsConnectionParams ? null : startContext(null);
    ctxPromise?.catch(() => {});

    const keepAlive = startKeepAlive({
      ping: () => send('PING'),
      silent: () => ws.terminate(),
      pingMs: limits.pingMs,
      pongWaitMs: limits.pongWaitMs,
    });

    function subscriptionSink(id: RequestId, jsonrpc: '2.0' | undefined): FeedSink {
      const prefix = responsePrefix(id, jsonrpc);
      return {
        shared(event) {
          if (!writable()) return;
          writes.beforeWrite(req.socket);
          ws.send(sharedFrames.frame(event, prefix), TEXT_FRAME);
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

    async function handleRequest(
      { id, raw }: IncomingRequest,
      batchIndex: number,
      contextPromise: Promise<Ctx>,
    ): Promise<void> {
      let message: ReturnType<typeof parseTRPCMessage>;
      try {
        message = parseTRPCMessage(raw, config.transformer);
      } catch (cause) {
        respondError(id, undefined, new TRPCError({ code: 'PARSE_ERROR', cause }));
        return;
      }
      if (message.method === 'subscription.stop') return;
      const { jsonrpc } = message;
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
        const context = await contextPromise;
        if (refusal) throw refusal;
        const result = await callTRPCProcedure({
          router,
          path,
          getRawInput: async () => input,
          ctx: context,
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

    const stopSubscription = (id: RequestId) => {
      subscriptions.get(id)?.abort();
      subscriptions.delete(id);
    };

    const refuse = (request: IncomingRequest, error: TRPCError) =>
      respond({ id: request.id, jsonrpc: jsonrpcOf(request.raw), error: errorShape(error) });

    /**
     * Every request but a stop spends from the connection's budget, refused or not. A batch past
     * `maxBatch` is not run: each of its requests is told why.
     */
    const dispatch = (requests: IncomingRequest[], contextPromise: Promise<Ctx>) => {
      const batchRefusal =
        requests.length > limits.maxBatch
          ? new TRPCError({
              code: 'PAYLOAD_TOO_LARGE',
              message: `Too many calls sent together (${requests.length}); at most ${limits.maxBatch} may be batched`,
            })
          : null;
      for (const [index, request] of requests.entries()) {
        // The client has already forgotten a subscription it stops: honour the stop even in a
        // refused batch.
        if (request.stop) {
          stopSubscription(request.id);
          continue;
        }
        const spent = budget.spend();
        if (spent === 'close') {
          closeWith(CLOSE_TOO_MANY_REQUESTS, 'too many requests: slow down');
          return;
        }
        if (batchRefusal) refuse(request, batchRefusal);
        else if (spent === 'refuse') refuse(request, TOO_MANY_REQUESTS);
        else track(handleRequest(request, index, contextPromise));
      }
    };

    ws.on('message', (data, isBinary) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      keepAlive.activity();
      const text = toBuffer(data).toString('utf8');
      if (!isBinary && text.length === 4) {
        if (text === 'PING') {
          if (budget.spend() === 'close') closeWith(CLOSE_TOO_MANY_REQUESTS, 'too many pings');
          else send('PONG');
          return;
        }
        if (text === 'PONG') return;
      }
      const frame = parseFrame(text);
      if (!frame) {
        closeWith(CLOSE_INVALID_FRAME, 'frame is not valid JSON');
        return;
      }
      if (!ctxPromise) {
        ctxPromise = Promise.resolve(frame.value).then((first) =>
          startContext(connectionParamsOf(first)),
        );
        ctxPromise.catch((cause: unknown) => {
          respondError(null, undefined, cause);
          closeWith(CLOSE_BAD_CONNECTION_PARAMS, 'invalid connection params');
        });
        return;
      }
      const read = requestsIn(frame.value);
      if ('invalid' in read) {
        closeWith(CLOSE_INVALID_FRAME, read.invalid);
        return;
      }
      dispatch(read.requests, ctxPromise);
    });

    // Socket errors are the client's or the network's doing (an oversized frame, invalid UTF-8,
    // a reset): `ws` closes the socket itself, with the matching code, and 'close' cleans up.
    ws.on('error', () => {});

    ws.once('close', () => {
      connections.delete(ws);
      clearTimeout(authDeadline);
      clearTimeout(cutTimer);
      keepAlive.stop();
      expiry?.cancel();
      stopSubscriptions();
      if (leaveUserSlot) {
        leaveUserSlot();
        authenticatedChanged(-1);
      }
    });
  }

  const broadcastReconnect = () => {
    for (const ws of connections) {
      if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount <= limits.maxBufferedBytes) {
        ws.send(RECONNECT_FRAME);
        options.metrics?.reconnectAsked();
      }
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
    connectionCount: () => authenticated,
    largestBacklog() {
      let largest = 0;
      for (const ws of connections) largest = Math.max(largest, ws.bufferedAmount);
      return largest;
    },
  };
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
