import type { EventBus } from './bus/eventBus.js';
import { type FeedRequest, RoomFeed } from './chat/roomFeed.js';
import { RoomHub } from './chat/roomHub.js';
import type { Config } from './config.js';
import type { Discovery } from './discovery/discovery.js';
import { Announcer } from './domain/announcer.js';
import { AuthService } from './domain/auth.js';
import { ChatService } from './domain/chat.js';
import { ModerationService } from './domain/moderation.js';
import { type RateLimit, RateLimiter } from './domain/rateLimiter.js';
import { RoomService } from './domain/rooms.js';
import { TokenIssuer } from './domain/tokens.js';
import { TypingService } from './domain/typing.js';
import type { Logger } from './log.js';
import type { ServerMetrics } from './metrics/serverMetrics.js';
import { watchOutage, withTimeout } from './outage.js';
import type { Presence } from './presence/presence.js';
import { resolveJwtSecret } from './secrets.js';
import type { Store } from './storage/store.js';

/** Everything procedures use, built once per process from the configuration. */
export interface Services {
  tokens: TokenIssuer;
  auth: AuthService;
  rooms: RoomService;
  chat: ChatService;
  moderation: ModerationService;
  typing: TypingService;
  feeds: { open(request: FeedRequest): RoomFeed };
  discovery: Discovery;
  hub: RoomHub;
  metrics: ServerMetrics;
  /**
   * Resolves when every dependency answers; rejects naming the one that does not (its error is
   * logged, not returned: it can name internal hosts).
   */
  checkReady(): Promise<void>;
  /**
   * Why this process should be restarted, or null: its storage has been unreachable for
   * STORAGE_UNHEALTHY_AFTER, which a restart may cure (a fresh process, fresh connections).
   */
  unhealthy(): string | null;
  close(): Promise<void>;
}

export interface Adapters {
  store: Store;
  bus: EventBus;
  presence: Presence;
  discovery: Discovery;
}

export interface RateLimits {
  /** Sign-ups per client address (SIGNUPS_PER_ADDRESS_*). */
  signUps: RateLimit;
  /** Failed sign-ins per account (SIGNIN_FAILURES_PER_ACCOUNT_*). */
  signInFailuresPerAccount: RateLimit;
  /** Failed sign-ins per client address (SIGNIN_FAILURES_PER_ADDRESS_*). */
  signInFailuresPerAddress: RateLimit;
  /** Rooms created per user (ROOM_CREATES_*). */
  roomCreations: RateLimit;
  /** Messages per user. */
  messages: RateLimit;
  /** Vote changes per user. */
  votes: RateLimit;
}

/** How often storage is pinged to know how long it has been unreachable. */
const STORAGE_PROBE_MS = 2_000;
/** A dependency that does not answer a ping within this long counts as unreachable. */
const PING_TIMEOUT_MS = 3_000;

/** The configured limits, and the fixed ones. */
export function rateLimitsFor(config: Config): RateLimits {
  const bucket = (burst: number, perMinute: number): RateLimit => ({
    burst,
    perSecond: perMinute / 60,
  });
  return {
    signUps: bucket(config.SIGNUPS_PER_ADDRESS_BURST, config.SIGNUPS_PER_ADDRESS_PER_MINUTE),
    signInFailuresPerAccount: bucket(
      config.SIGNIN_FAILURES_PER_ACCOUNT_BURST,
      config.SIGNIN_FAILURES_PER_ACCOUNT_PER_MINUTE,
    ),
    signInFailuresPerAddress: bucket(
      config.SIGNIN_FAILURES_PER_ADDRESS_BURST,
      config.SIGNIN_FAILURES_PER_ADDRESS_PER_MINUTE,
    ),
    roomCreations: bucket(config.ROOM_CREATES_BURST, config.ROOM_CREATES_PER_MINUTE),
    messages: { perSecond: 10, burst: 20 },
    votes: { perSecond: 20, burst: 40 },
  };
}

export async function createServices(
  config: Config,
  adapters: Adapters,
  log: Logger,
  rateLimits: RateLimits,
  metrics: ServerMetrics,
): Promise<Services> {
  const { store, bus, presence, discovery } = adapters;
  const secret = resolveJwtSecret(
    config.JWT_SECRET,
    config.DATA_DIR,
    config.NODE_ENV === 'production',
  );
  const tokens = new TokenIssuer(secret, config.JWT_TTL);
  const rooms = new RoomService(store, presence, {
    creations: rateLimits.roomCreations,
    ownedMax: config.ROOMS_PER_USER_MAX,
    admin: config.ADMIN_USERNAME,
  });
  await rooms.ensureDefault();
  const hub = new RoomHub({
    bus,
    presence,
    log: store.messages,
    metrics,
    onError: (error) => {
      metrics.roomHubFailed();
      log.error('room hub failure', { error });
    },
    onPresenceError: (error) => {
      metrics.dependencyFailed('presence');
      log.warn('presence change deferred (reconciled when presence is back)', { error });
    },
  });
  const onPublishError = (error: unknown) => {
    metrics.dependencyFailed('bus');
    log.warn('stored, but not published (members get it from the log)', { error });
  };
  // Sends, edits, removals, pins and answers share one bucket per user.
  const messageTokens = new RateLimiter(rateLimits.messages);
  const chat = new ChatService(
    store,
    bus,
    rooms,
    { messages: messageTokens, votes: new RateLimiter(rateLimits.votes) },
    onPublishError,
  );
  const moderation = new ModerationService(
    store,
    rooms,
    messageTokens,
    new Announcer(bus, onPublishError),
  );

  const unhealthyAfterMs = config.STORAGE_UNHEALTHY_AFTER * 1_000;
  let toldUnhealthy = false;
  const storage = watchOutage(() => store.ping(), {
    what: 'storage',
    intervalMs: STORAGE_PROBE_MS,
    timeoutMs: PING_TIMEOUT_MS,
    onFailure(error, downForMs) {
      metrics.dependencyFailed('store');
      if (toldUnhealthy || downForMs < unhealthyAfterMs) return;
      toldUnhealthy = true;
      log.error('storage unreachable too long: failing /healthz and leaving discovery', {
        error,
        downForMs,
      });
    },
    onRecovery(downForMs) {
      toldUnhealthy = false;
      log.info('storage reachable again', { downForMs });
    },
  });
  const ping = async (dependency: string, check: () => Promise<void>) => {
    try {
      await withTimeout(check(), PING_TIMEOUT_MS, dependency);
    } catch (error) {
      log.warn(`${dependency} unreachable`, { error });
      throw new Error(`${dependency} unreachable`);
    }
  };

  return {
    tokens,
    auth: new AuthService(store, tokens, {
      signUpsPerAddress: rateLimits.signUps,
      failuresPerAccount: rateLimits.signInFailuresPerAccount,
      failuresPerAddress: rateLimits.signInFailuresPerAddress,
    }),
    rooms,
    chat,
    moderation,
    typing: new TypingService(bus, rooms),
    feeds: { open: (request) => new RoomFeed({ store, hub }, request) },
    discovery,
    hub,
    metrics,
    async checkReady() {
      await Promise.all([ping('storage', () => store.ping()), ping('pub/sub', () => bus.ping())]);
    },
    unhealthy() {
      const downForMs = storage.downForMs();
      return downForMs >= unhealthyAfterMs
        ? `storage unreachable for ${Math.round(downForMs / 1_000)} s`
        : null;
    },
    async close() {
      storage.stop();
      await hub.close();
      await Promise.allSettled([bus.close(), presence.close(), discovery.close()]);
      await store.close();
    },
  };
}
