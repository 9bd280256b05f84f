import type { EventBus } from './bus/eventBus.js';
import type { Config } from './config.js';
import type { Discovery } from './discovery/discovery.js';
import { Announcer } from './domain/announcer.js';
import { AuthService } from './domain/auth.js';
import { MessageService } from './domain/messages.js';
import { ModerationService } from './domain/moderation.js';
import { type RateLimit, RateLimiter } from './domain/rateLimiter.js';
import { RoomService } from './domain/rooms.js';
import { TokenIssuer } from './domain/tokens.js';
import { TypingService } from './domain/typing.js';
import { type FeedRequest, RoomFeed } from './fanout/roomFeed.js';
import { RoomHub } from './fanout/roomHub.js';
import { HEALTH_TIMING, WRITE_RATES } from './limits.js';
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
  discovery: Discovery;
  metrics: ServerMetrics;
  /** What only the chat role needs (the room hub and what uses it); null on an API server. */
  chat: ChatServices | null;
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

/** The chat role's services: live rooms and the writes their members make. */
export interface ChatServices {
  hub: RoomHub;
  feeds: { open(request: FeedRequest): RoomFeed };
  messages: MessageService;
  moderation: ModerationService;
  typing: TypingService;
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
    ...WRITE_RATES,
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
  const chat =
    config.ROLE === 'api' ? null : createChatServices(adapters, rooms, log, rateLimits, metrics);

  const unhealthyAfterMs = config.STORAGE_UNHEALTHY_AFTER * 1_000;
  let toldUnhealthy = false;
  const storage = watchOutage(() => store.ping(), {
    what: 'storage',
    intervalMs: HEALTH_TIMING.storageProbeMs,
    timeoutMs: HEALTH_TIMING.pingTimeoutMs,
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
      await withTimeout(check(), HEALTH_TIMING.pingTimeoutMs, dependency);
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
    discovery,
    metrics,
    chat,
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
      await chat?.hub.close();
      await Promise.allSettled([bus.close(), presence.close(), discovery.close()]);
      await store.close();
    },
  };
}

/** The room hub and the services of a chat server's members. */
function createChatServices(
  { store, bus, presence }: Adapters,
  rooms: RoomService,
  log: Logger,
  rateLimits: RateLimits,
  metrics: ServerMetrics,
): ChatServices {
  const hub = new RoomHub({
    bus,
    presence,
    eventLog: store.messages,
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
  return {
    hub,
    feeds: { open: (request) => new RoomFeed({ store, hub }, request) },
    messages: new MessageService(
      store,
      bus,
      rooms,
      { messages: messageTokens, votes: new RateLimiter(rateLimits.votes) },
      onPublishError,
    ),
    moderation: new ModerationService(
      store,
      rooms,
      messageTokens,
      new Announcer(bus, onPublishError),
    ),
    typing: new TypingService(bus, rooms),
  };
}
