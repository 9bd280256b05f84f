import type { TransportLimits } from './chat/transport/transportLimits.js';
import type { RateLimit } from './domain/rateLimiter.js';

/*
 * Every bound and timing the server enforces, in one place. Settings (src/config.ts) take their
 * defaults from here; what clients must know as well (message length, page sizes, the HTTP batch
 * cap…) lives in src/contract/limits.ts and is not repeated. The README's Limits table lists them.
 */

/** Per-user write rates that are not settings. */
export const WRITE_RATES = {
  /** Sends, edits, removals, pins and answers share one bucket per user. */
  messages: { perSecond: 10, burst: 20 },
  votes: { perSecond: 20, burst: 40 },
  /**
   * One typing signal per user and room per 1.5 s. Clients send one per `LIMITS.typingIntervalMs`
   * (2 s): taking them a little more often means one that network jitter brings in early is not
   * dropped (that would hide the typist for up to two intervals).
   */
  typing: { perSecond: 1000 / 1_500, burst: 1 },
} satisfies Record<string, RateLimit>;

/** Defaults of the account and room settings (SIGNUPS_*, SIGNIN_FAILURES_*, ROOM_*). */
export const ACCOUNT_DEFAULTS = {
  /** Sized for a crowd joining from one venue's network. */
  signUpsPerAddress: { burst: 500, perMinute: 10 },
  /** Failed sign-ins only (successes cost nothing): at most ~70 guesses an hour per account. */
  signInFailuresPerAccount: { burst: 10, perMinute: 1 },
  /** Failed sign-ins per address across accounts (password spraying). */
  signInFailuresPerAddress: { burst: 100, perMinute: 10 },
  /** (address, account) pairs remembered as known, so a throttled address still lets them in. */
  knownPairsMax: 50_000,
  roomCreations: { burst: 10, perMinute: 1 },
  roomsPerUserMax: 100,
} as const;

/**
 * The room directory's online counts: each room's is read from presence at most once per `ttlMs`
 * per API process (clients refresh the page every 5 s), for at most `maxRooms` rooms at a time.
 */
export const DIRECTORY_COUNTS = {
  ttlMs: 1_000,
  maxRooms: 10_000,
} as const;

/** The API role's HTTP server. */
export const HTTP_LIMITS = {
  maxBodyBytes: 64 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
} as const;

/** Defaults of the chat transport's bounds (three are settings: WS_*). */
export const TRANSPORT_DEFAULTS: TransportLimits = {
  maxBatch: 50,
  maxSubscriptions: 32,
  requestsPerSecond: 50,
  requestBurst: 100,
  maxBufferedBytes: 8 * 1024 * 1024,
  closeTimeoutMs: 5_000,
  pingMs: 30_000,
  pongWaitMs: 5_000,
  authTimeoutMs: 10_000,
  maxConnectionsPerAddress: 1_000,
  maxConnectionsPerUser: 20,
};

/** How long in-flight chat requests may take to finish when the server drains (SIGTERM). */
export const DRAIN_TIMEOUT_MS = 5_000;

/** The room fan-out (src/fanout). */
export const FANOUT_LIMITS = {
  /** A resuming client further behind than this gets a fresh snapshot instead of a replay. */
  replayMax: 500,
  /** Presence changes are announced at most this often per room, coalescing join storms. */
  presenceThrottleMs: 250,
  /**
   * And at most this many presence frames per second per room and server: a count announced to a
   * room of 10,000 members every 250 ms would be 40,000 frames a second through a join storm, all
   * saying nearly the same number. Larger rooms hear their count less often (10,000: every 2.5 s).
   */
  presenceFramesPerSecond: 4_000,
  /** How long an out-of-order entry waits for the missing ones before they are read from the log. */
  gapWaitMs: 100,
  /** How soon the log is asked again for missing entries when it could not be read. */
  gapRetryMs: 1_000,
  /** Log entries read per query when the bus says it may have missed some. */
  resyncPage: 500,
} as const;

/**
 * Who is online. A member lives `ttlMs` after its server's last heartbeat; the next heartbeat (or
 * join, or leave) of another server in the room removes it and announces the new count. So the
 * users of a chat server that dies leave the counts members see within ttl + one heartbeat + the
 * announcement's throttle, under 15 s. A count that could not be announced (presence or the bus
 * unreachable) is announced again every `retryMs`.
 */
export const PRESENCE_TIMING = {
  ttlMs: 9_000,
  heartbeatMs: 3_000,
  retryMs: 4_000,
} as const;

/**
 * Which chat servers are alive. A server heartbeats every `heartbeatMs`, is handed out only while
 * heard from within `staleAfterMs` (a stale one only when none is fresh), and its record expires
 * after `ttlMs`.
 */
export const DISCOVERY_TIMING = {
  heartbeatMs: 1_000,
  staleAfterMs: 3_000,
  ttlMs: 15_000,
} as const;

/** The stores (src/storage). */
export const STORAGE_LIMITS = {
  /**
   * Most writes one group commit takes, in every store. On MongoDB it also bounds the entries one
   * insert writes, which the log reader relies on: do not lower it under a running deployment.
   */
  commitBatchMax: 100,
  /** How often MongoDB is pinged through the current client. */
  mongoProbeMs: 1_000,
  /**
   * A MongoDB ping without an answer within this long has failed. Short, so that a client whose
   * every operation waits out server selection is told apart within seconds.
   */
  mongoPingTimeoutMs: 2_000,
} as const;

/** Redis pub/sub (src/bus/redis.ts): how soon a room whose subscription failed is tried again. */
export const BUS_TIMING = {
  resubscribeMinMs: 100,
  resubscribeMaxMs: 2_000,
} as const;

/** Health checks (the liveness and reconnect bounds themselves are settings). */
export const HEALTH_TIMING = {
  /** How often storage is pinged to know how long it has been unreachable. */
  storageProbeMs: 2_000,
  /** A dependency that does not answer a ping within this long counts as unreachable. */
  pingTimeoutMs: 3_000,
  /** MONGO_RECONNECT_AFTER and STORAGE_UNHEALTHY_AFTER defaults. */
  mongoReconnectAfter: '5s',
  storageUnhealthyAfter: '60s',
} as const;
