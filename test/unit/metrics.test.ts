import { describe, expect, it } from 'vitest';
import { SharedEvent } from '../../src/chat/sharedEvent.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { Message } from '../../src/contract/models.js';
import { metricsExposure } from '../../src/metrics/endpoint.js';
import { type ChatServerGauges, ServerMetrics } from '../../src/metrics/serverMetrics.js';
import { Scrape } from '../helpers/metrics.js';

const TOKEN = 't'.repeat(32);

describe('metrics settings', () => {
  it('serve nothing by default, and a separate port listens on loopback', () => {
    const config = loadConfig({});
    expect(config.METRICS_PORT).toBeUndefined();
    expect(config.METRICS_TOKEN).toBeUndefined();
    expect(config.METRICS_HOST).toBe('127.0.0.1');
    expect(metricsExposure(config)).toBe('off');
  });

  it('put /metrics behind the token on the public port, or on a port of its own', () => {
    expect(metricsExposure(loadConfig({ METRICS_TOKEN: TOKEN }))).toBe('public');
    expect(metricsExposure(loadConfig({ METRICS_PORT: '9464' }))).toBe('own-port');
    const both = loadConfig({ METRICS_PORT: '9464', METRICS_TOKEN: TOKEN });
    expect(metricsExposure(both)).toBe('own-port');
    expect(both.METRICS_TOKEN).toBe(TOKEN);
  });

  it('refuse a short token, a port out of range and the public port', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error(`expected ${JSON.stringify(env)} to be refused`);
    };
    expect(refusal({ METRICS_TOKEN: TOKEN.slice(1) })).toMatch(
      /METRICS_TOKEN: must be at least 32 characters/,
    );
    expect(loadConfig({ METRICS_TOKEN: TOKEN }).METRICS_TOKEN).toBe(TOKEN);
    expect(refusal({ METRICS_PORT: '65536' })).toMatch(/METRICS_PORT/);
    expect(refusal({ METRICS_PORT: '8080' })).toMatch(/METRICS_PORT: must differ from PORT/);
    expect(refusal({ ROLE: 'chat', METRICS_PORT: '8081' })).toMatch(/METRICS_PORT/);
    expect(loadConfig({ ROLE: 'chat', METRICS_PORT: '8080' }).METRICS_PORT).toBe(8080);
  });
});

const gauges: ChatServerGauges = {
  openSockets: () => 5,
  transport: { connectionCount: () => 3, largestBacklog: () => 1024 },
  hub: { localRooms: () => 2, localMembers: () => 4 },
  announcement: { connections: () => 3, available: () => false },
};

function message(createdAt: number): SharedEvent {
  const body: Message = {
    id: 'm1',
    roomId: 'r',
    author: { id: 'u1', username: 'ada' },
    body: 'hi',
    createdAt,
    up: 0,
    down: 0,
    editedAt: null,
    removed: false,
    pinned: false,
    answered: false,
    clientMessageId: null,
  };
  return new SharedEvent(1, { type: 'message', message: body }, true);
}

describe('ServerMetrics', () => {
  it('keeps one registry per instance: two servers in one process count apart', async () => {
    const one = new ServerMetrics();
    const two = new ServerMetrics();
    one.procedureFinished('chat.send', 'ok');
    one.procedureFinished('chat.send', 'ok');
    two.procedureFinished('chat.send', 'TOO_MANY_REQUESTS');
    const first = new Scrape(await one.render());
    const second = new Scrape(await two.render());
    const sends = (s: Scrape, result: string) =>
      s.count('chathub_procedure_calls_total', { procedure: 'chat.send', result });
    expect([sends(first, 'ok'), sends(first, 'TOO_MANY_REQUESTS')]).toEqual([2, 0]);
    expect([sends(second, 'ok'), sends(second, 'TOO_MANY_REQUESTS')]).toEqual([0, 1]);
  });

  it('shows chat metrics only once it watches a chat server, read at each scrape', async () => {
    const metrics = new ServerMetrics();
    const before = new Scrape(await metrics.render());
    for (const dependency of ['store', 'bus', 'presence', 'discovery']) {
      expect(before.sample('chathub_dependency_errors_total', { dependency })).toBe(0);
    }
    expect(before.families.has('chathub_ws_connections')).toBe(false);
    expect(before.families.has('chathub_deliveries_total')).toBe(false);
    metrics.watchChatServer(gauges);
    const after = new Scrape(await metrics.render());
    expect(after.sample('chathub_ws_connections', { state: 'authenticated' })).toBe(3);
    expect(after.sample('chathub_ws_connections', { state: 'unauthenticated' })).toBe(2);
    expect(after.sample('chathub_ws_largest_backlog_bytes')).toBe(1024);
    expect(after.sample('chathub_local_rooms')).toBe(2);
    expect(after.sample('chathub_local_room_members')).toBe(4);
    expect(after.sample('chathub_discovery_announced_connections')).toBe(3);
    expect(after.sample('chathub_discovery_available')).toBe(0);
  });

  it('counts a dispatch by its members, and times messages only', async () => {
    const metrics = new ServerMetrics();
    metrics.watchChatServer(gauges);
    metrics.dispatched(message(Date.now() - 30), 1_000);
    metrics.dispatched(
      new SharedEvent(1, { type: 'presence', online: 7, users: [] }, false),
      1_000,
    );
    // A sender's clock a little ahead of this server's is not a negative latency.
    metrics.dispatched(message(Date.now() + 60_000), 10);
    const scrape = new Scrape(await metrics.render());
    expect(scrape.count('chathub_deliveries_total', { type: 'message' })).toBe(1_010);
    expect(scrape.count('chathub_deliveries_total', { type: 'presence' })).toBe(1_000);
    const latency = 'chathub_message_delivery_latency_seconds';
    expect(scrape.count(`${latency}_count`)).toBe(2);
    expect(scrape.count(`${latency}_bucket`, { le: '0.001' })).toBe(1);
    expect(scrape.count(`${latency}_bucket`, { le: '0.025' })).toBe(1);
    expect(scrape.count(`${latency}_bucket`, { le: '10' })).toBe(2);
  });
});
