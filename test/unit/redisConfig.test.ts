import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('Redis settings', () => {
  it('reads REDIS_CLUSTER_NODES as the seed nodes of a Redis Cluster', () => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: 'redis-0.redis:6379, 10.0.0.7:7001,[::1]:7002',
    });
    expect(config.redis).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'redis-0.redis', port: 6379 },
        { host: '10.0.0.7', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  it('reads REDIS_URL as one Redis, and neither as none', () => {
    expect(loadConfig({ REDIS_URL: 'redis://redis:6379' }).redis).toEqual({
      kind: 'single',
      url: 'redis://redis:6379',
    });
    expect(loadConfig({}).redis).toBeNull();
  });

  it.each([
    'redis-0',
    'redis-0:',
    'redis-0:6379,',
    'redis-0:70000',
    'redis://redis-0:6379',
    'redis-0:6379 redis-1:6379',
  ])('refuses the seed list %j, naming the variable and the expected form', (value) => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: value })).toThrow(
      /REDIS_CLUSTER_NODES: must be a comma-separated list of host:port seed nodes/,
    );
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together, naming both', () => {
    const attempt = () =>
      loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_CLUSTER_NODES: 'redis-0:6379' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /REDIS_CLUSTER_NODES: set REDIS_URL \(one Redis\) or REDIS_CLUSTER_NODES \(a Redis Cluster\), not both/,
    );
  });
});
