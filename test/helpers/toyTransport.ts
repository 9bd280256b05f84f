import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import {
  createTRPCClient,
  createWSClient,
  type TRPCClient,
  type TRPCWebSocketClient,
  wsLink,
} from '@trpc/client';
import { initTRPC, TRPCError, type TrackedEnvelope, tracked } from '@trpc/server';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { maxFrameBytes, type TransportLimits } from '../../src/chat/transport/transportLimits.js';
import { createWsTransport, type WsTransport } from '../../src/chat/transport/wsTransport.js';
import type { PresenceEvent, TypingEvent } from '../../src/contract/events.js';
import { BATCH_PROTOCOL } from '../../src/contract/wire.js';
import type { FeedSink, Pipeable, StopSignal } from '../../src/fanout/feedSink.js';
import { SharedEvent } from '../../src/fanout/sharedEvent.js';
import { TRANSPORT_DEFAULTS } from '../../src/limits.js';

/**
 * A toy tRPC router served by the chat transport on a real `ws` server, mounted as the app mounts
 * it (socketServer.ts): none of ChatHub's routers or services, so a test of the transport sees
 * only the transport. The toy counts what the transport does to it (generators running, feed
 * members, the largest backlog it saw) for the tests to read.
 */

/** What a toy token says: who, for how long, or that making the context fails. */
export interface ToyCredentials {
  user?: string;
  /** The session's length from the moment the context is made (default: an hour). */
  ttlMs?: number;
  /** Make createContext throw (synchronously) or return a rejected promise. */
  fail?: 'throw' | 'reject';
}

export const toyToken = (credentials: ToyCredentials): string => JSON.stringify(credentials);

export const CONTEXT_REFUSED = 'These toy credentials are refused';
export const COUNT_BROKE = 'The toy count broke';

interface ToyContext {
  user: string | null;
  expiresAt: number;
}

function toyContext(token: string | null | undefined): ToyContext | Promise<ToyContext> {
  const credentials = (token ? JSON.parse(token) : {}) as ToyCredentials;
  const refused = () => new TRPCError({ code: 'UNAUTHORIZED', message: CONTEXT_REFUSED });
  if (credentials.fail === 'throw') throw refused();
  if (credentials.fail === 'reject') return Promise.reject(refused());
  return {
    user: credentials.user ?? null,
    expiresAt: Date.now() + (credentials.ttlMs ?? 3_600_000),
  };
}

/** A room as the fan-out core keeps one: members are sinks, and an event is sent to each. */
class ToyRoom {
  readonly members = new Set<FeedSink>();
  /** Events published so far: the last one's sequence number. */
  published = 0;

  /** One room event, handed to every member as the same SharedEvent. */
  publish(): void {
    this.published += 1;
    const event: PresenceEvent = { type: 'presence', online: this.published, users: [] };
    const shared = new SharedEvent(this.published, event, false);
    for (const member of this.members) member.shared(shared);
  }
}

type ToyFeedEvent = PresenceEvent | TypingEvent;

/**
 * A feed the transport must pipe (a subscription result implementing Pipeable): its own event
 * first, then the room's. It is an AsyncIterable only for tRPC's types; iterating it fails, so a
 * transport that iterated it instead of piping would fail the subscription.
 */
class ToyFeed implements Pipeable, AsyncIterable<TrackedEnvelope<ToyFeedEvent>> {
  constructor(private readonly room: ToyRoom) {}

  async pipe(sink: FeedSink, signal: StopSignal): Promise<void> {
    if (signal.aborted) return;
    this.room.members.add(sink);
    signal.addEventListener('abort', () => this.room.members.delete(sink), { once: true });
    sink.own('0', { type: 'typing', users: [] });
  }

  [Symbol.asyncIterator](): AsyncIterator<TrackedEnvelope<ToyFeedEvent>> {
    throw new Error('A Pipeable feed is piped into the transport, never iterated');
  }
}

/** What the toy's procedures did, for the tests to read. */
export class ToyState {
  total = 0;
  /** Async generator subscriptions started and not yet finished (their `finally` ran). */
  liveGenerators = 0;
  /** The `lastEventId` each `ticks` subscription was started with. */
  readonly ticksStartedAfter: (string | undefined)[] = [];
  /** The largest output backlog `pour` saw after handing the transport a value. */
  peakBacklog = 0;
  slowStarted = 0;
  readonly room = new ToyRoom();
  /** Told by the transport (its metrics). */
  slowConsumersDropped = 0;
  reconnectsAsked = 0;
  backlog: () => number = () => 0;
  private releaseSlow: () => void = () => {};
  private readonly slowGate = new Promise<void>((resolve) => {
    this.releaseSlow = resolve;
  });

  /** Lets every `slow` mutation under way (and to come) finish. */
  release(): void {
    this.releaseSlow();
  }

  waitForRelease(): Promise<void> {
    return this.slowGate;
  }
}

function toyRouter(toy: ToyState) {
  const t = initTRPC.context<ToyContext>().create({ isDev: false });
  /** Counts a generator as live from its start to its end, however it ends. */
  async function* live<T>(values: AsyncGenerator<T>): AsyncGenerator<T> {
    toy.liveGenerators += 1;
    try {
      yield* values;
    } finally {
      toy.liveGenerators -= 1;
    }
  }
  return t.router({
    echo: t.procedure.input(z.string()).query(({ input }) => input),
    whoami: t.procedure.query(({ ctx }) => ctx.user),
    add: t.procedure.input(z.number()).mutation(({ input }) => {
      toy.total += input;
      return toy.total;
    }),
    refuse: t.procedure.query((): string => {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'The toy refuses this one' });
    }),
    /** Runs until the test releases it. */
    slow: t.procedure.mutation(async () => {
      toy.slowStarted += 1;
      await toy.waitForRelease();
      return 'finished';
    }),
    /**
     * 1, 2, … `to` (or from after `lastEventId`), tracked, then the generator returns; or throws
     * instead of yielding `breakAt`.
     */
    count: t.procedure
      .input(
        z.object({
          to: z.number(),
          breakAt: z.number().optional(),
          lastEventId: z.string().optional(),
        }),
      )
      .subscription(async function* ({ input }) {
        for (let n = Number(input.lastEventId ?? 0) + 1; n <= input.to; n++) {
          if (n === input.breakAt) throw new TRPCError({ code: 'CONFLICT', message: COUNT_BROKE });
          yield tracked(String(n), n);
        }
      }),
    /** A tracked tick every 10 ms, forever, resuming after `lastEventId`. */
    ticks: t.procedure
      .input(z.object({ lastEventId: z.string().optional() }).optional())
      .subscription(({ input }) => {
        toy.ticksStartedAfter.push(input?.lastEventId);
        return live(
          (async function* () {
            for (let n = Number(input?.lastEventId ?? 0) + 1; ; n++) {
              yield tracked(String(n), n);
              await sleep(10);
            }
          })(),
        );
      }),
    /** Strings of `input` characters as fast as the transport takes them. */
    pour: t.procedure.input(z.number()).subscription(({ input }) =>
      live(
        (async function* () {
          const chunk = 'x'.repeat(input);
          for (;;) {
            yield chunk;
            toy.peakBacklog = Math.max(toy.peakBacklog, toy.backlog());
            await nextTurn();
          }
        })(),
      ),
    ),
    room: t.procedure.subscription(() => new ToyFeed(toy.room)),
  });
}

export type ToyRouter = ReturnType<typeof toyRouter>;

export interface ToyServer {
  url: string;
  transport: WsTransport;
  toy: ToyState;
  limits: TransportLimits;
  /** Sockets the server holds, from the upgrade until they are closed or cut on its side. */
  openSockets(): number;
  /** Sockets the server has accepted so far. */
  accepted(): number;
  /** A stock `@trpc/client` on this server, closed with it. */
  client(token: string, options?: ToyClientOptions): ToyClient;
  close(): Promise<void>;
}

export interface ToyClientOptions {
  /** false: no `?connectionParams=1`; the token goes in the URL and the context is made from it. */
  connectionParams?: boolean;
  /** A `ws` subclass (to watch its frames). */
  WebSocket?: SocketClass;
}

/** How the stock client makes its sockets: `new WebSocket(url)`. */
type SocketClass = new (url: string) => WebSocket;

export interface ToyClient {
  trpc: TRPCClient<ToyRouter>;
  socket: TRPCWebSocketClient;
  /** Close codes of every socket this client had closed, in order. */
  closes: number[];
}

export async function serveToy(limits: Partial<TransportLimits> = {}): Promise<ToyServer> {
  const toy = new ToyState();
  const all: TransportLimits = { ...TRANSPORT_DEFAULTS, ...limits };
  const transport = createWsTransport({
    router: toyRouter(toy),
    requestInfo: (req) => new URL(req.url ?? '/', 'http://toy').searchParams.get('token'),
    createContext: ({ request, connectionParams }) =>
      toyContext(connectionParams ? connectionParams.token : request),
    sessionOf: ({ user, expiresAt }) => (user ? { userId: user, expiresAt } : null),
    limits: all,
    metrics: {
      slowConsumerDropped: () => {
        toy.slowConsumersDropped += 1;
      },
      reconnectAsked: () => {
        toy.reconnectsAsked += 1;
      },
    },
  });
  toy.backlog = () => transport.largestBacklog();
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    maxPayload: maxFrameBytes(all.maxBatch),
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(BATCH_PROTOCOL) ? BATCH_PROTOCOL : false),
  });
  await once(wss, 'listening');
  let accepted = 0;
  wss.on('connection', (ws, req) => {
    accepted += 1;
    transport.handleConnection(ws, req);
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const clients: TRPCWebSocketClient[] = [];

  return {
    url,
    transport,
    toy,
    limits: all,
    openSockets: () => wss.clients.size,
    accepted: () => accepted,
    client(token, { connectionParams = true, WebSocket: Socket = WebSocket } = {}) {
      const closes: number[] = [];
      const socket = createWSClient({
        url: connectionParams ? url : `${url}?token=${encodeURIComponent(token)}`,
        connectionParams: connectionParams ? { token } : undefined,
        // `ws` implements the WebSocket API the client uses, but is typed as Node's own class.
        WebSocket: Socket as unknown as typeof globalThis.WebSocket,
        retryDelayMs: () => 20,
        onClose: (cause) => closes.push(cause?.code ?? 0),
      });
      clients.push(socket);
      return {
        trpc: createTRPCClient<ToyRouter>({ links: [wsLink({ client: socket })] }),
        socket,
        closes,
      };
    },
    async close() {
      // Stops the clients' reconnecting first; cutting the sockets settles their pending calls.
      const closing = clients.map((client) => client.close());
      for (const ws of wss.clients) ws.terminate();
      await Promise.allSettled(closing);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A `ws` class that keeps the text of every frame its sockets receive, for one client. */
export function recordingWebSocket(): { Recording: SocketClass; frames: string[] } {
  const frames: string[] = [];
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data) => frames.push(data.toString()));
    }
  }
  return { Recording, frames };
}
