import type { TestProject } from 'vitest/node';
import { LocalServices } from '../helpers/localServices.js';

/**
 * Vitest global setup: the real servers the integration suites use. REDIS_URL, REDIS_CLUSTER_NODES
 * and MONGO_URL point the suites at servers you run (real Redis, a real Redis Cluster, real
 * MongoDB); otherwise a redis-server, a six-node Redis Cluster (three masters, three replicas) and
 * a FerretDB (MongoDB wire protocol over SQLite) start here on free loopback ports. A server that
 * cannot be had is an error, never a skip: `npm test` provisions them (scripts/provision.sh).
 * Suites that crash or reshard a cluster start their own (LocalServices.redisCluster).
 */

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** REDIS_CLUSTER_NODES: `host:port,host:port,…` seeds of a Redis Cluster. */
    redisClusterNodes: string;
    mongoUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = new LocalServices();
  try {
    const redisUrl = process.env.REDIS_URL || services.redis();
    const redisClusterNodes =
      process.env.REDIS_CLUSTER_NODES || services.redisCluster().then((cluster) => cluster.seeds);
    const mongoUrl = process.env.MONGO_URL || services.ferretDb();
    // Started side by side, and all settled before any failure reaches stop() below, so nothing
    // launches after the cleanup.
    await Promise.allSettled([redisUrl, redisClusterNodes, mongoUrl]);
    project.provide('redisUrl', await redisUrl);
    project.provide('redisClusterNodes', await redisClusterNodes);
    project.provide('mongoUrl', await mongoUrl);
  } catch (error) {
    // Whatever did start must not outlive a failed setup.
    await services.stop();
    throw error;
  }
  return () => services.stop();
}
