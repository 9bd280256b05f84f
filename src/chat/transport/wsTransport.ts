import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
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
import { BATCH_PROTOCOL, MAX_BATCH_FRAME_BYTES } from '../../contract/wire.js';
import { type FeedSink, isPipeable, type StopSignal } from '../../fanout/feedSink.js';
import type { SharedEvent } from '../../fanout/sharedEvent.js';
import { TRANSPORT_DEFAULTS } from '../../limits.js';
import { toTRPCError } from '../../trpc/init.js';
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
import { DeadlineQueue, type Sleeper } from './deadlines.js';
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
import type { TransportLimits } from './transportLimits.js';
import type { TransportMetrics } from './transportMetrics.js';
import { type Outlet, TurnWriter } from './turnWriter.js';
import { textFrame } from './wsFrames.js';

export * from './closeCodes.js';
export { maxFrameBytes, type TransportLimits } from './transportLimits.js';

/**
 * The tRPC WebSocket protocol (the one `@trpc/client`'s wsLink speaks). Queries and mutations go
 * through tRPC's own procedure caller. Subscriptions whose result is pipeable (room feeds) skip
 * the per-subscriber async iterator: each room event is encoded once and the same bytes go to
 * every member, like a plain `ws` broadcast. Everything queued for a socket in one event-loop
 * turn leaves in one write; a client that asks for the batched wire mode (BATCH_PROTOCOL) gets
 * it as one frame of newline-separated messages, any other client one message per frame.
 *
 * Bounded against any client: every request id gets an answer or the socket closes; every
 * answer, refusals included, spends from the connection's request budget; every byte queued for
 * a client counts against one output budget; a connection has a deadline to authenticate; and
 * connections are capped per address (at the upgrade, see socketServer.ts) and per user.
 *
 * Light per connection: one object holds a connection's state (no closures, no timers of its
 * own: every deadline is on one shared queue), and the upgrade request is not kept.
 */

/** Who a connection's credentials identify, and until when. */
export interface SessionInfo {
  userId: string;
  expiresAt: number;
}

type ConnectionParams = Record<string, string | undefined> | null;

export interface WsTransportOptions<TRouter extends AnyTRPCRouter, TRequest> {
  router: TRouter;
  /** What a connection keeps of its upgrade request, read as it opens (not the request itself). */
  requestInfo(req: IncomingMessage): TRequest;
  createContext(opts: {
    request: TRequest;
    connectionParams: ConnectionParams;
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
type Call = { type: TRPCProcedureType; path: string; input: unknown };

const RECONNECT_FRAME = textFrame(JSON.stringify({ id: null, method: 'reconnect' }));
const PING_FRAME = textFrame('PING');
const PONG_FRAME = textFrame('PONG');
const TOO_MANY_REQUESTS = new TRPCError({
  code: 'TOO_MANY_REQUESTS',
  message: 'Too many requests on this connection',
});
const RESTARTING = 'This chat server is restarting; your client will reconnect to another';
const ignore = () => {};

export function createWsTransport<TRouter extends AnyTRPCRouter, TRequest>(
  options: WsTransportOptions<TRouter, TRequest>,
): WsTransport {
  return new Transport(options);
}

/** What every connection of one transport shares. */
class Transport<TRouter extends AnyTRPCRouter, TRequest> implements WsTransport {
  readonly limits: TransportLimits;
  readonly config: TRouter['_def']['_config'];
  readonly connections = new Map<WebSocket, Connection<TRouter, TRequest>>();
  readonly userSlots: ConnectionSlots;
  readonly deadlines = new DeadlineQueue<Connection<TRouter, TRequest>>();
  readonly writer = new TurnWriter(MAX_BATCH_FRAME_BYTES);
  readonly sharedFrames: ReturnType<typeof createSharedFrames>;
  private authenticated = 0;
  /** Requests under way, and the drain waiting for them to finish, if any. */
  private inFlight = 0;
  private idle: (() => void) | null = null;
  draining = false;
  /** Socket listeners, shared by every connection: `this` is the socket. */
  private readonly onMessage: (this: WebSocket, data: WebSocket.RawData, binary: boolean) => void;
  private readonly onClose: (this: WebSocket) => void;

  constructor(readonly options: WsTransportOptions<TRouter, TRequest>) {
    this.limits = { ...TRANSPORT_DEFAULTS, ...options.limits };
    this.config = options.router._def._config;
    this.userSlots = new ConnectionSlots(this.limits.maxConnectionsPerUser);
    this.sharedFrames = createSharedFrames((data) =>
      this.config.transformer.output.serialize(data),
    );
    const { connections } = this;
    this.onMessage = function onMessage(data, binary) {
      connections.get(this)?.receive(data, binary);
    };
    this.onClose = function onClose() {
      connections.get(this)?.closed();
      connections.delete(this);
    };
  }

  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const connection = new Connection(
      this,
      ws,
      req.socket,
      this.options.requestInfo(req),
      ws.protocol === BATCH_PROTOCOL,
    );
    this.connections.set(ws, connection);
    ws.on('message', this.onMessage);
    // Socket errors are the client's or the network's doing (an oversized frame, invalid UTF-8,
    // a reset): `ws` closes the socket itself, with the matching code, and 'close' cleans up.
    ws.on('error', ignore);
    ws.once('close', this.onClose);
    connection.open(wantsConnectionParams(req.url));
  }

  /** Counts a request as under way until it settles, for a drain to wait on. */
  track(handled: Promise<void>): void {
    this.inFlight += 1;
    handled.then(this.settled, this.settled);
  }

  private readonly settled = (): void => {
    this.inFlight -= 1;
    if (this.inFlight === 0) this.idle?.();
  };

  authenticatedChanged(by: 1 | -1): void {
    this.authenticated += by;
    this.options.onConnectionsChanged?.();
  }

  broadcastReconnect(): void {
    for (const connection of this.connections.values()) connection.askToReconnect();
  }

  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      if (this.inFlight === 0) resolve();
      else this.idle = resolve;
    });
    clearTimeout(timer);
    this.idle = null;
    this.broadcastReconnect();
  }

  connectionCount(): number {
    return this.authenticated;
  }

  largestBacklog(): number {
    let largest = 0;
    for (const connection of this.connections.values()) {
      largest = Math.max(largest, connection.backlog());
    }
    return largest;
  }
}

function wantsConnectionParams(url: string | undefined): boolean {
  return new URL(url ?? '/', 'http://localhost').searchParams.get('connectionParams') === '1';
}

/**
 * One live subscription: the sink its feed writes into, and the signal that stops it (lighter
 * than an AbortController, of which a server with many subscribers would hold one each).
 */
class Subscription implements FeedSink, StopSignal {
  aborted = false;
  private listeners: (() => void)[] | null = null;
  /** Every frame of this subscription starts with it. */
  readonly prefix: string;

  constructor(
    private readonly connection: Outbound,
    readonly id: RequestId,
    readonly jsonrpc: '2.0' | undefined,
  ) {
    this.prefix = responsePrefix(id, jsonrpc);
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    if (this.listeners) this.listeners.push(listener);
    else this.listeners = [listener];
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners ?? [];
    this.listeners = null;
    for (const listener of listeners) listener();
  }

  shared(event: SharedEvent): void {
    this.connection.sendShared(event, this.prefix);
  }

  own(eventId: string, data: unknown): void {
    this.connection.respond({
      id: this.id,
      jsonrpc: this.jsonrpc,
      result: { type: 'data', id: eventId, data: { id: eventId, data } },
    });
  }
}

/** What a subscription needs of its connection. */
interface Outbound {
  sendShared(event: SharedEvent, prefix: string): void;
  respond(message: TRPCResponseMessage): void;
}

class Connection<TRouter extends AnyTRPCRouter, TRequest> implements Outlet, Sleeper, Outbound {
  // Output (see TurnWriter).
  queued: Buffer[] | null = null;
  queuedBytes = 0;
  // Deadlines (see DeadlineQueue): every one of them is a time in epoch ms, 0 when not set.
  wakeAt = Number.POSITIVE_INFINITY;
  queueIndex = -1;
  private authBy = 0;
  private activeAt = Date.now();
  private pingSentAt = 0;
  private expiresAt = 0;
  private cutAt = 0;
  // Requests.
  private readonly budget: RequestBudget;
  /** Live subscriptions: a short list (at most `maxSubscriptions`), usually of one. */
  private subscriptions: Subscription[] | null = null;
  private ctx: inferRouterContext<TRouter> | undefined;
  private ctxPromise: Promise<inferRouterContext<TRouter>> | null = null;
  /** Set when the user already holds every connection allowed: calls get this error. */
  private refusal: TRPCError | null = null;
  private leaveUserSlot: (() => void) | null = null;

  constructor(
    private readonly transport: Transport<TRouter, TRequest>,
    private readonly ws: WebSocket,
    readonly socket: Socket,
    /** Until the context is made from it. */
    private request: TRequest | null,
    readonly batched: boolean,
  ) {
    const { limits } = transport;
    this.budget = new RequestBudget(limits.requestsPerSecond, limits.requestBurst);
    this.authBy = this.activeAt + limits.authTimeoutMs;
  }

  open(withConnectionParams: boolean): void {
    // Without connection params the context comes from the request alone; a failure to make it
    // answers every call with the error.
    if (!withConnectionParams) this.startContext(null).catch(ignore);
    this.reschedule();
  }

  // ── Output ─────────────────────────────────────────────────────────────────────────────────

  isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.socket.destroyed;
  }

  backlog(): number {
    return this.socket.writableLength + this.queuedBytes;
  }

  /**
   * The one output budget: every write checks it first. A client this far behind is not
   * reading; it is closed (and cut after `closeTimeoutMs` if even that cannot get out).
   */
  private writable(): boolean {
    if (!this.isOpen()) return false;
    if (this.backlog() <= this.transport.limits.maxBufferedBytes) return true;
    this.closeWith(CLOSE_TOO_SLOW, 'too slow: reconnect and resume');
    this.transport.options.metrics?.slowConsumerDropped();
    this.stopSubscriptions();
    return false;
  }

  private queue(frame: Buffer): void {
    if (this.writable()) this.transport.writer.queue(this, frame);
  }

  /** Keep-alive frames: on their own, at once (never merged into a batch of messages). */
  private sendNow(frame: Buffer): void {
    if (this.writable()) this.socket.write(frame);
  }

  sendShared(event: SharedEvent, prefix: string): void {
    if (this.writable()) {
      this.transport.writer.queue(this, this.transport.sharedFrames.frame(event, prefix));
    }
  }

  respond(message: TRPCResponseMessage): void {
    this.queue(textFrame(JSON.stringify(transformTRPCResponse(this.transport.config, message))));
  }

  /** Sent at once; a client past its output budget is left alone (it is not reading anyway). */
  askToReconnect(): void {
    if (!this.isOpen() || this.backlog() > this.transport.limits.maxBufferedBytes) return;
    this.transport.writer.queue(this, RECONNECT_FRAME);
    this.transport.writer.flush(this);
    this.transport.options.metrics?.reconnectAsked();
  }

  /** Closes with `code` once what is queued is out; a client that does not complete the closing handshake is cut off. */
  private closeWith(code: number, reason: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.transport.writer.flush(this);
    this.ws.close(code, reason);
    this.cutAt = Date.now() + this.transport.limits.closeTimeoutMs;
    this.reschedule();
  }

  // ── Deadlines ──────────────────────────────────────────────────────────────────────────────

  private reschedule(): void {
    this.transport.deadlines.schedule(this, this.nextWake());
  }

  private nextWake(): number {
    if (this.cutAt) return this.cutAt;
    const { pingMs, pongWaitMs } = this.transport.limits;
    let at = this.pingSentAt ? this.pingSentAt + pongWaitMs : this.activeAt + pingMs;
    if (this.authBy) at = Math.min(at, this.authBy);
    if (this.expiresAt) at = Math.min(at, this.expiresAt);
    return at;
  }

  /**
   * A deadline passed: cut a close that is not completing, close an expired session or one not
   * authenticated in time, and run tRPC's keep-alive (PING after an idle spell; no answer of any
   * kind within `pongWaitMs` ends the connection).
   */
  wake(now: number): void {
    const { pingMs, pongWaitMs } = this.transport.limits;
    if (this.cutAt) {
      if (now >= this.cutAt) {
        this.ws.terminate();
        return;
      }
    } else if (this.expiresAt && now >= this.expiresAt) {
      this.closeWith(CLOSE_SESSION_EXPIRED, 'session expired');
    } else if (this.authBy && now >= this.authBy) {
      if (this.refusal)
        this.closeWith(CLOSE_TOO_MANY_CONNECTIONS, 'too many connections for this user');
      else this.closeWith(CLOSE_NOT_AUTHENTICATED, 'not authenticated in time');
    } else {
      if (this.pingSentAt && this.activeAt >= this.pingSentAt) this.pingSentAt = 0;
      if (this.pingSentAt && now >= this.pingSentAt + pongWaitMs) {
        this.ws.terminate();
        return;
      }
      if (!this.pingSentAt && now >= this.activeAt + pingMs) {
        this.pingSentAt = now;
        this.sendNow(PING_FRAME);
      }
    }
    this.reschedule();
  }

  // ── Authentication ─────────────────────────────────────────────────────────────────────────

  private startContext(connectionParams: ConnectionParams): Promise<inferRouterContext<TRouter>> {
    const request = this.request as TRequest;
    this.request = null;
    // A createContext that throws rather than rejects fails the same way (not out of a socket
    // listener, where nothing catches it).
    const created = new Promise<inferRouterContext<TRouter>>((resolve) =>
      resolve(this.transport.options.createContext({ request, connectionParams })),
    ).then((context) => {
      this.ctx = context;
      this.authenticate(context);
      return context;
    });
    this.ctxPromise = created;
    return created;
  }

  /** Counts the connection as load once it has a valid session and a slot for its user. */
  private authenticate(context: inferRouterContext<TRouter>): void {
    const { transport } = this;
    const session = transport.options.sessionOf(context);
    // Credentials that are missing, invalid or already expired are refused call by call and
    // the connection closes at the deadline: closing at once would only make the client
    // reconnect with the same token again and again.
    if (!session || session.expiresAt <= Date.now() || !this.isOpen()) return;
    const leave = transport.userSlots.tryTake(session.userId);
    if (!leave) {
      this.refusal = tooManyRequests(
        `This account already has ${transport.limits.maxConnectionsPerUser} chat connections open here; close one (another tab or device) and try again`,
      );
      return;
    }
    this.leaveUserSlot = leave;
    this.authBy = 0;
    this.expiresAt = session.expiresAt;
    transport.authenticatedChanged(1);
    this.reschedule();
  }

  // ── Input ──────────────────────────────────────────────────────────────────────────────────

  receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.activeAt = Date.now();
    const text = toBuffer(data).toString('utf8');
    if (!isBinary && text.length === 4) {
      if (text === 'PING') {
        if (this.budget.spend() === 'close')
          this.closeWith(CLOSE_TOO_MANY_REQUESTS, 'too many pings');
        else this.sendNow(PONG_FRAME);
        return;
      }
      if (text === 'PONG') return;
    }
    const frame = parseFrame(text);
    if (!frame) {
      this.closeWith(CLOSE_INVALID_FRAME, 'frame is not valid JSON');
      return;
    }
    if (!this.ctxPromise) {
      let params: ConnectionParams;
      try {
        params = connectionParamsOf(frame.value);
      } catch (cause) {
        this.ctxPromise = Promise.reject(cause);
        this.ctxPromise.catch(ignore);
        this.respondError(null, undefined, cause);
        this.closeWith(CLOSE_BAD_CONNECTION_PARAMS, 'invalid connection params');
        return;
      }
      this.startContext(params).catch((cause: unknown) => {
        this.respondError(null, undefined, cause);
        this.closeWith(CLOSE_BAD_CONNECTION_PARAMS, 'invalid connection params');
      });
      return;
    }
    const read = requestsIn(frame.value);
    if ('invalid' in read) {
      this.closeWith(CLOSE_INVALID_FRAME, read.invalid);
      return;
    }
    this.dispatch(read.requests, this.ctxPromise);
  }

  /**
   * Every request but a stop spends from the connection's budget, refused or not. A batch past
   * `maxBatch` is not run: each of its requests is told why.
   */
  private dispatch(
    requests: IncomingRequest[],
    contextPromise: Promise<inferRouterContext<TRouter>>,
  ): void {
    const { limits } = this.transport;
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
        this.stopSubscription(request.id);
        continue;
      }
      const spent = this.budget.spend();
      if (spent === 'close') {
        this.closeWith(CLOSE_TOO_MANY_REQUESTS, 'too many requests: slow down');
        return;
      }
      if (batchRefusal) this.refuse(request, batchRefusal);
      else if (spent === 'refuse') this.refuse(request, TOO_MANY_REQUESTS);
      else this.transport.track(this.handleRequest(request, index, contextPromise));
    }
  }

  private async handleRequest(
    { id, raw }: IncomingRequest,
    batchIndex: number,
    contextPromise: Promise<inferRouterContext<TRouter>>,
  ): Promise<void> {
    const { transport } = this;
    let message: ReturnType<typeof parseTRPCMessage>;
    try {
      message = parseTRPCMessage(raw, transport.config.transformer);
    } catch (cause) {
      this.respondError(id, undefined, new TRPCError({ code: 'PARSE_ERROR', cause }));
      return;
    }
    if (message.method === 'subscription.stop') return;
    const { jsonrpc } = message;
    const { path, lastEventId } = message.params;
    const type = message.method;
    const input = withLastEventId(message.params.input, lastEventId);
    const call = { type, path, input };

    if (transport.draining) {
      const error = new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: RESTARTING });
      this.respondError(id, jsonrpc, error, call);
      return;
    }
    let subscription: Subscription | null = null;
    if (type === 'subscription') {
      const subscriptions = this.subscriptions ?? [];
      if (this.subscriptionWithId(id)) {
        const error = new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` });
        this.respondError(id, jsonrpc, error, call);
        return;
      }
      const { maxSubscriptions } = transport.limits;
      if (subscriptions.length >= maxSubscriptions) {
        const error = tooManyRequests(`At most ${maxSubscriptions} subscriptions per connection`);
        this.respondError(id, jsonrpc, error, call);
        return;
      }
      subscription = new Subscription(this, id, jsonrpc);
      // A literal, not a push onto an empty array: V8 gives a pushed-to array room for 17.
      this.subscriptions = [...subscriptions, subscription];
    }
    try {
      const context = await contextPromise;
      if (this.refusal) throw this.refusal;
      // Procedures get no abort signal: a subscription ends through its feed's stop signal or
      // its iterator's return(), and queries and mutations run to completion.
      const result = await callTRPCProcedure({
        router: transport.options.router,
        path,
        getRawInput: async () => input,
        ctx: context,
        type,
        signal: undefined,
        batchIndex,
      });
      if (!subscription) {
        this.respond({ id, jsonrpc, result: { type: 'data', data: result } });
        return;
      }
      if (subscription.aborted || !this.isOpen()) return;
      this.respond({ id, jsonrpc, result: { type: 'started' } });
      if (isPipeable(result)) {
        await result.pipe(subscription, subscription);
        return;
      }
      // Iterated, a subscription lasts as long as its client wants it: it is not a request under
      // way for a drain to wait on (the reconnect notice ends it).
      const iterated = subscription;
      this.iterate(iterated, result).catch((cause: unknown) =>
        this.subscriptionFailed(iterated, cause, call),
      );
    } catch (cause) {
      if (subscription) this.subscriptionFailed(subscription, cause, call);
      else this.respondError(id, jsonrpc, cause, call);
    }
  }

  private subscriptionFailed(subscription: Subscription, cause: unknown, call: Call): void {
    this.forget(subscription);
    subscription.abort();
    this.respondError(subscription.id, subscription.jsonrpc, cause, call);
  }

  private async iterate(subscription: Subscription, result: unknown): Promise<void> {
    if (!isAsyncIterable(result)) {
      throw new TRPCError({
        code: 'INTERNAL_SERVER_ERROR',
        message: 'Subscription did not return an async iterable',
      });
    }
    const { id, jsonrpc } = subscription;
    const iterator = result[Symbol.asyncIterator]();
    const aborted = new Promise<'aborted'>((resolve) =>
      subscription.addEventListener('abort', () => resolve('aborted')),
    );
    try {
      while (!subscription.aborted) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === 'aborted' || next.done) break;
        const value: unknown = next.value;
        this.respond({
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
    this.forget(subscription);
    this.respond({ id, jsonrpc, result: { type: 'stopped' } });
  }

  private stopSubscription(id: RequestId): void {
    const subscription = this.subscriptionWithId(id);
    if (!subscription) return;
    this.forget(subscription);
    subscription.abort();
  }

  private subscriptionWithId(id: RequestId): Subscription | undefined {
    return this.subscriptions?.find((subscription) => subscription.id === id);
  }

  private forget(subscription: Subscription): void {
    const index = this.subscriptions?.indexOf(subscription) ?? -1;
    if (index >= 0) this.subscriptions?.splice(index, 1);
  }

  private stopSubscriptions(): void {
    const subscriptions = this.subscriptions;
    if (!subscriptions) return;
    this.subscriptions = null;
    for (const subscription of subscriptions) subscription.abort();
  }

  private errorShape(error: TRPCError, call?: Call) {
    return getErrorShape({
      config: this.transport.config,
      error,
      type: call?.type ?? 'unknown',
      path: call?.path,
      input: call?.input,
      ctx: this.ctx,
    });
  }

  private respondError(
    id: RequestId,
    jsonrpc: '2.0' | undefined,
    cause: unknown,
    call?: Call,
  ): void {
    const error = toTRPCError(cause);
    this.transport.options.onError?.(error, { path: call?.path, type: call?.type ?? 'unknown' });
    this.respond({ id, jsonrpc, error: this.errorShape(error, call) });
  }

  private refuse(request: IncomingRequest, error: TRPCError): void {
    this.respond({
      id: request.id,
      jsonrpc: jsonrpcOf(request.raw),
      error: this.errorShape(error),
    });
  }

  // ── End ────────────────────────────────────────────────────────────────────────────────────

  /** The socket closed (however): nothing more is sent, every subscription ends. */
  closed(): void {
    this.queued = null;
    this.queuedBytes = 0;
    this.transport.deadlines.cancel(this);
    this.stopSubscriptions();
    if (this.leaveUserSlot) {
      this.leaveUserSlot();
      this.leaveUserSlot = null;
      this.transport.authenticatedChanged(-1);
    }
  }
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
