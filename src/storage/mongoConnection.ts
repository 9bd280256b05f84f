import {
  type Collection,
  type CommandStartedEvent,
  type Document,
  MongoClient,
  type MongoClientOptions,
} from 'mongodb';
import { STORAGE_LIMITS } from '../limits.js';
import { watchOutage } from '../outage.js';

const CLIENT_OPTIONS: MongoClientOptions = {
  appName: 'chathub',
  // Fail a request fast when no server is reachable; the driver reconnects on its own.
  serverSelectionTimeoutMS: 5_000,
  connectTimeoutMS: 5_000,
  // Notice a server that is back within two seconds (the driver's default is ten).
  heartbeatFrequencyMS: 2_000,
};

export interface MongoConnectionOptions {
  dbName: string;
  /** Replace the client once the database has been unreachable through it this long. */
  replaceAfterMs: number;
  /** A client was replaced, after the database had been unreachable through it this long. */
  onReplaced?(unreachableForMs: number): void;
  /** A fresh client could not reach the database either; the current one is kept. */
  onReplaceFailed?(error: unknown): void;
  /** Sees every command sent through any of the clients (the driver's command monitoring). */
  onCommandStarted?(event: CommandStartedEvent): void;
}

export interface MongoConnection {
  /** A handle that always acts on the current client, across replacements. */
  collection<T extends Document>(name: string): Collection<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The store's MongoClient, kept healthy. The driver reconnects by itself after most outages, but
 * a client whose server monitoring never recovers fails every operation for good, while a fresh
 * client would reach the same database at once. So the database is pinged through the client,
 * and once it has been unreachable for `replaceAfterMs` a fresh client is connected and, if it
 * reaches the database, takes over (the old one is closed, failing what it still had in flight);
 * if not, the current client stays and the next attempt comes `replaceAfterMs` later.
 */
export async function connectMongo(
  url: string,
  options: MongoConnectionOptions,
): Promise<MongoConnection> {
  const open = () => connect(url, options.onCommandStarted);
  let client = await open();
  let lastAttempt = 0;
  let replacing: Promise<void> | null = null;
  let closed = false;

  const replace = async (unreachableForMs: number) => {
    let fresh: MongoClient;
    try {
      fresh = await open();
    } catch (error) {
      options.onReplaceFailed?.(error);
      return;
    }
    if (closed) {
      await fresh.close();
      return;
    }
    const stale = client;
    client = fresh;
    options.onReplaced?.(unreachableForMs);
    await stale.close().catch(() => {});
  };

  const database = () => client.db(options.dbName);
  const watch = watchOutage(() => database().command({ ping: 1 }), {
    what: 'MongoDB',
    intervalMs: STORAGE_LIMITS.mongoProbeMs,
    timeoutMs: STORAGE_LIMITS.mongoPingTimeoutMs,
    onFailure(_error, downForMs) {
      const now = Date.now();
      if (closed || replacing || downForMs < options.replaceAfterMs) return;
      if (now - lastAttempt < options.replaceAfterMs) return;
      lastAttempt = now;
      replacing = replace(downForMs).finally(() => {
        replacing = null;
      });
    },
  });

  return {
    collection<T extends Document>(name: string): Collection<T> {
      let bound = { client, collection: database().collection<T>(name) };
      const current = () => {
        if (bound.client !== client) bound = { client, collection: database().collection<T>(name) };
        return bound.collection;
      };
      return new Proxy(bound.collection, {
        get(_target, property) {
          const collection = current();
          const value: unknown = Reflect.get(collection, property, collection);
          return typeof value === 'function' ? value.bind(collection) : value;
        },
      });
    },
    async ping() {
      await database().command({ ping: 1 });
    },
    async close() {
      closed = true;
      watch.stop();
      await replacing;
      await client.close();
    },
  };
}

/** A connected client; nothing is left open when it cannot connect. */
async function connect(
  url: string,
  onCommandStarted?: (event: CommandStartedEvent) => void,
): Promise<MongoClient> {
  const client = new MongoClient(url, { ...CLIENT_OPTIONS, monitorCommands: !!onCommandStarted });
  if (onCommandStarted) client.on('commandStarted', onCommandStarted);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
}
