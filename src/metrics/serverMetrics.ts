import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FanoutMetrics, TransportMetrics } from '../chat/chatMetrics.js';
import type { SharedEvent } from '../chat/sharedEvent.js';

/** The dependencies whose errors are counted, one label value each. */
const DEPENDENCIES = ['store', 'bus', 'presence', 'discovery'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

/**
 * What a chat server shows at scrape time, read from the parts that already know it (nothing is
 * counted on the way for these).
 */
export interface ChatServerGauges {
  /** Open chat sockets, authenticated or not. */
  openSockets(): number;
  transport: { connectionCount(): number; largestBacklog(): number };
  hub: { localRooms(): number; localMembers(): number };
  /** What this chat server announces to discovery. */
  announcement: { connections(): number; available(): boolean };
}

/** Send-to-deliver latency: a few milliseconds on a quiet server, seconds when it falls behind. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * One process's metrics in one registry of its own (tests run several servers in one process, so
 * prom-client's global registry is never used): Node's process and event-loop metrics, and
 * ChatHub's own, named `chathub_*`. The chat server's metrics join the registry only on a process
 * that serves chat (`watchChatServer`).
 */
export class ServerMetrics implements FanoutMetrics, TransportMetrics {
  readonly registry = new Registry();
  private readonly calls = new Counter({
    name: 'chathub_procedure_calls_total',
    help: 'tRPC calls that reached their procedure, by procedure path and result: ok, or the tRPC error code the caller got',
    labelNames: ['procedure', 'result'] as const,
    registers: [this.registry],
  });
  private readonly dependencyErrors = new Counter({
    name: 'chathub_dependency_errors_total',
    help: 'Errors from a dependency: failed storage probes and MongoDB reconnects (store), Redis connection errors and failed heartbeats, publishes that failed after their commit (bus), failed presence changes',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  private readonly hubErrors = new Counter({
    name: 'chathub_room_hub_errors_total',
    help: 'Room hub failures (a room could not be subscribed, or its log read to fill a gap); members catch up from the log',
    registers: [this.registry],
  });
  // The chat server's counters: registered by watchChatServer.
  private readonly deliveries = new Counter({
    name: 'chathub_deliveries_total',
    help: 'Room events handed to local members for their sockets (one per member and event), by event type',
    labelNames: ['type'] as const,
    registers: [],
  });
  private readonly latency = new Histogram({
    name: 'chathub_message_delivery_latency_seconds',
    help: "Time from a message's creation (stamped by the server that accepted it, just before its commit) to its dispatch to this server's local members",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [],
  });
  private readonly slowConsumers = new Counter({
    name: 'chathub_slow_consumers_dropped_total',
    help: 'Chat connections closed for holding more unsent output than their budget (close code 4008)',
    registers: [],
  });
  private readonly reconnects = new Counter({
    name: 'chathub_reconnects_requested_total',
    help: 'Chat clients sent the reconnect notice (when this server drains)',
    registers: [],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Every dependency shows from the start, so that a rate or an alert has a series at zero.
    for (const dependency of DEPENDENCIES) this.dependencyErrors.inc({ dependency }, 0);
  }

  /** A tRPC call ended: `result` is `ok` or the error code its caller got. */
  procedureFinished(procedure: string, result: string): void {
    this.calls.inc({ procedure, result });
  }

  dependencyFailed(dependency: Dependency): void {
    this.dependencyErrors.inc({ dependency });
  }

  roomHubFailed(): void {
    this.hubErrors.inc();
  }

  dispatched(event: SharedEvent, members: number): void {
    this.deliveries.inc({ type: event.event.type }, members);
    if (event.event.type === 'message') {
      // Clocks of two servers may disagree by a little; a message is never delivered before it exists.
      this.latency.observe(Math.max(0, Date.now() - event.event.message.createdAt) / 1000);
    }
  }

  slowConsumerDropped(): void {
    this.slowConsumers.inc();
  }

  reconnectAsked(): void {
    this.reconnects.inc();
  }

  /** Adds the chat server's metrics; its gauges are read from `gauges` at each scrape. */
  watchChatServer(gauges: ChatServerGauges): void {
    for (const metric of [this.deliveries, this.latency, this.slowConsumers, this.reconnects]) {
      this.registry.registerMetric(metric);
    }
    const { transport, hub, announcement } = gauges;
    new Gauge({
      name: 'chathub_ws_connections',
      help: 'Open chat WebSocket connections, by state: authenticated (a valid session: the load discovery balances on) or unauthenticated',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const authenticated = transport.connectionCount();
        this.set({ state: 'authenticated' }, authenticated);
        this.set({ state: 'unauthenticated' }, Math.max(0, gauges.openSockets() - authenticated));
      },
    });
    this.gauge(
      'chathub_ws_largest_backlog_bytes',
      'The most output any one chat connection has queued and not yet handed to the network',
      () => transport.largestBacklog(),
    );
    this.gauge(
      'chathub_local_rooms',
      'Rooms with members on this chat server (one bus subscription each)',
      () => hub.localRooms(),
    );
    this.gauge(
      'chathub_local_room_members',
      'Room subscriptions on this chat server (members of its local rooms)',
      () => hub.localMembers(),
    );
    this.gauge(
      'chathub_discovery_announced_connections',
      'The load this chat server announces to discovery (its authenticated connections)',
      () => announcement.connections(),
    );
    this.gauge(
      'chathub_discovery_available',
      '1 while this chat server offers itself to discovery, 0 while it withdraws (storage unreachable too long)',
      () => (announcement.available() ? 1 : 0),
    );
  }

  /** The registry in Prometheus text format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}
