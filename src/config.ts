import { z } from 'zod';
import { DEFAULT_LIMITS } from './chat/transportLimits.js';
import type { RedisNode, RedisTarget } from './redis/connection.js';

const DURATION = /^(\d+)\s*(s|m|h|d)?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** "90", "15m", "12h", "7d" → seconds. */
function parseDuration(value: string): number | null {
  const match = DURATION.exec(value.trim());
  if (!match) return null;
  const unit = (match[2] ?? 's') as keyof typeof UNIT_SECONDS;
  return Number(match[1]) * UNIT_SECONDS[unit];
}

/** A duration setting in seconds, between `min` and `max`. */
function duration(opts: { fallback: string; min: number; max?: number; example: string }) {
  const { fallback, min, max = Number.POSITIVE_INFINITY, example } = opts;
  const range =
    max === Number.POSITIVE_INFINITY ? `at least ${min}s` : `between ${min}s and ${max}s`;
  return z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const seconds = parseDuration(value);
      if (seconds === null || seconds < min || seconds > max) {
        ctx.addIssue({ code: 'custom', message: `must be a duration ${range}, ${example}` });
        return z.NEVER;
      }
      return seconds;
    });
}

/** A token bucket's size: how many may happen at once after a quiet period. */
const burst = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
/** A token bucket's refill; fractions allowed (0.5 is one every two minutes). */
const perMinute = (fallback: number) => z.coerce.number().positive().default(fallback);

/** A setting that no longer exists: refused, so no one runs believing it still applies. */
const replaced = (by: string) =>
  z.undefined({ error: `no longer exists; it was replaced by ${by} (see the README)` }).optional();

const wsUrl = z
  .url({ protocol: /^wss?$/, error: 'must be a ws:// or wss:// URL' })
  .transform((url) => url.replace(/\/$/, ''));

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

/** "redis-0:6379,redis-1:6379" → seed nodes of a Redis Cluster. */
const clusterNodes = z.string().transform((value, ctx) => {
  const nodes: RedisNode[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const match = HOST_PORT.exec(entry);
    const port = Number(match?.[3]);
    const host = match?.[1] ?? match?.[2];
    if (!host || !(port >= 1 && port <= 65_535)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a comma-separated list of host:port seed nodes, like redis-0:6379,redis-1:6379 (got ${JSON.stringify(entry)})`,
      });
      return z.NEVER;
    }
    nodes.push({ host, port });
  }
  return nodes;
});

const schema = z
  .object({
    ROLE: z.enum(['api', 'chat', 'all']).default('all'),
    PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    JWT_SECRET: z
      .string()
      .min(32, 'must be at least 32 characters (try: openssl rand -base64 48)')
      .optional(),
    JWT_TTL: duration({ fallback: '1h', min: 60, example: 'like 15m or 12h' }),
    PUBLIC_URL: wsUrl.optional(),
    CHAT_URL: wsUrl.optional(),
    MONGO_URL: z.string().optional(),
    REDIS_URL: z.string().optional(),
    REDIS_CLUSTER_NODES: clusterNodes.optional(),
    /** Chat socket bounds (see the transport's limits). */
    WS_AUTH_TIMEOUT: duration({
      fallback: `${DEFAULT_LIMITS.authTimeoutMs / 1000}s`,
      min: 1,
      max: 600,
      example: 'like 10s',
    }),
    WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce
      .number()
      .int()
      .min(1)
      .default(DEFAULT_LIMITS.maxConnectionsPerAddress),
    WS_MAX_CONNECTIONS_PER_USER: z.coerce
      .number()
      .int()
      .min(1)
      .default(DEFAULT_LIMITS.maxConnectionsPerUser),
    TRUST_PROXY: z.stringbool().default(false),
    /** Sign-ups per client address: sized for a crowd joining from one venue's network. */
    SIGNUPS_PER_ADDRESS_BURST: burst(500),
    SIGNUPS_PER_ADDRESS_PER_MINUTE: perMinute(10),
    /** Failed sign-ins per account (successes cost nothing): at most ~70 guesses an hour. */
    SIGNIN_FAILURES_PER_ACCOUNT_BURST: burst(10),
    SIGNIN_FAILURES_PER_ACCOUNT_PER_MINUTE: perMinute(1),
    /** Failed sign-ins per client address, across all accounts (password spraying). */
    SIGNIN_FAILURES_PER_ADDRESS_BURST: burst(100),
    SIGNIN_FAILURES_PER_ADDRESS_PER_MINUTE: perMinute(10),
    /** Rooms one user may create: a burst, then this many per minute. */
    ROOM_CREATES_BURST: burst(10),
    ROOM_CREATES_PER_MINUTE: perMinute(1),
    /** Rooms one user may own in all. */
    ROOMS_PER_USER_MAX: z.coerce.number().int().min(0).default(100),
    /** The user who looks after `general` (removes messages, pins, marks answers); none by default. */
    ADMIN_USERNAME: z.string().trim().min(1).optional(),
    AUTH_ATTEMPTS_BURST: replaced('SIGNUPS_PER_ADDRESS_* and SIGNIN_FAILURES_PER_*'),
    AUTH_ATTEMPTS_PER_MINUTE: replaced('SIGNUPS_PER_ADDRESS_* and SIGNIN_FAILURES_PER_*'),
    /** MongoDB unreachable this long through the store's client: the client is replaced. */
    MONGO_RECONNECT_AFTER: duration({ fallback: '5s', min: 1, example: 'like 5s or 1m' }),
    /** Storage unreachable this long: /healthz fails and a chat server leaves discovery. */
    STORAGE_UNHEALTHY_AFTER: duration({ fallback: '60s', min: 1, example: 'like 60s or 5m' }),
    /** A port of its own for GET /metrics; unset, /metrics is not on a port of its own. */
    METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    /** Where METRICS_PORT listens: loopback unless the deployment opens it to its scraper. */
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`. */
    METRICS_TOKEN: z
      .string()
      .min(32, 'must be at least 32 characters (try: openssl rand -hex 32)')
      .optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    NODE_ENV: z.string().default('development'),
  })
  .refine((env) => env.STORAGE_UNHEALTHY_AFTER > env.MONGO_RECONNECT_AFTER, {
    path: ['STORAGE_UNHEALTHY_AFTER'],
    message: 'must be longer than MONGO_RECONNECT_AFTER, so a new client is tried first',
  })
  .superRefine((env, ctx) => {
    if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_CLUSTER_NODES'],
        message:
          'set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both: they name where pub/sub, presence and discovery live',
      });
    }
  })
  .transform(({ PORT, AUTH_ATTEMPTS_BURST: _, AUTH_ATTEMPTS_PER_MINUTE: __, ...env }) => ({
    ...env,
    PORT: PORT ?? (env.ROLE === 'chat' ? 8081 : 8080),
    /** Where pub/sub, presence and discovery live; null keeps them in this process. */
    redis: redisTarget(env.REDIS_URL, env.REDIS_CLUSTER_NODES),
  }))
  .refine((env) => !env.METRICS_PORT || env.METRICS_PORT !== env.PORT, {
    path: ['METRICS_PORT'],
    message: 'must differ from PORT: metrics get a port of their own',
  });

function redisTarget(url?: string, clusterNodes?: RedisNode[]): RedisTarget | null {
  if (clusterNodes) return { kind: 'cluster', nodes: clusterNodes };
  if (url) return { kind: 'single', url };
  return null;
}

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the environment; an invalid value fails with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  ${issue.path.join('.')}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}
