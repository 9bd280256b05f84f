import type { TestProject } from 'vitest/node';
import { LocalServices } from '../helpers/localServices.js';

/**
 * Vitest global setup: the real servers the integration suites use. REDIS_URL and MONGO_URL point
 * the suites at servers you run (real Redis, real MongoDB); otherwise a redis-server and a
 * FerretDB (MongoDB wire protocol over SQLite) start here on free loopback ports. A server that
 * cannot be had is an error, never a skip: `npm test` provisions both (scripts/provision.sh).
 */

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    mongoUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = new LocalServices();
  try {
    const redisUrl = process.env.REDIS_URL || (await services.redis());
    const mongoUrl = process.env.MONGO_URL || (await services.ferretDb());
    project.provide('redisUrl', redisUrl);
    project.provide('mongoUrl', mongoUrl);
  } catch (error) {
    // Whatever did start must not outlive a failed setup.
    await services.stop();
    throw error;
  }
  return () => services.stop();
}
