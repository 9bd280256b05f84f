import { join } from 'node:path';
import { createMemoryBus } from '../../src/bus/memory.js';
import { createStaticDiscovery } from '../../src/discovery/static.js';
import { UnavailableError } from '../../src/domain/errors.js';
import { createMemoryPresence } from '../../src/presence/memory.js';
import type { Adapters } from '../../src/services.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import type { MessageRepository, Store } from '../../src/storage/store.js';

export type CatchUpRead = 'snapshot' | 'eventsAfter';

/** A store whose catch-up reads (snapshot, replay) can be made to fail like an unreachable database. */
export class FlakyStore {
  readonly calls: Record<CatchUpRead, number> = { snapshot: 0, eventsAfter: 0 };
  private failures: Record<CatchUpRead, number> = { snapshot: 0, eventsAfter: 0 };
  /** Runs before each failure is thrown: the test writes to the room while the follower is cut off. */
  private duringOutage: () => Promise<void> = async () => {};
  readonly store: Store;

  constructor(inner: Store) {
    const messages = new Proxy(inner.messages, {
      get: (target, key: keyof MessageRepository) => {
        const value = Reflect.get(target, key);
        if (key !== 'snapshot' && key !== 'eventsAfter') return value;
        return async (...args: unknown[]) => {
          this.calls[key] += 1;
          if (this.failures[key] > 0) {
            this.failures[key] -= 1;
            await this.duringOutage();
            throw new UnavailableError('The database');
          }
          return Reflect.apply(value, target, args);
        };
      },
    });
    this.store = new Proxy(inner, {
      get: (target, key) => (key === 'messages' ? messages : Reflect.get(target, key)),
    });
  }

  failNext(read: CatchUpRead, times: number, duringOutage: () => Promise<void>): void {
    this.failures[read] = times;
    this.duringOutage = duringOutage;
  }
}

/** One process's adapters (as ROLE=all without Redis) on a flaky SQLite store in `dataDir`. */
export function flakyAdapters(dataDir: string): { flaky: FlakyStore; adapters: Adapters } {
  const flaky = new FlakyStore(openSqliteStore(join(dataDir, 'chathub.db')));
  return {
    flaky,
    adapters: {
      store: flaky.store,
      bus: createMemoryBus(),
      presence: createMemoryPresence(),
      discovery: createStaticDiscovery(undefined, 'localhost'),
    },
  };
}
