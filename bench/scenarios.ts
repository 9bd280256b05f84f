import type { BenchOptions } from './cli.js';
import { ROOM_ID, type SendMode } from './protocol.js';
import { isChatHubServer, onRedisCluster, SYSTEMS, type SystemName } from './systems.js';

/**
 * What the bench measures. A family (the `--scenario` name) expands into one or more concrete
 * scenarios (rooms: one per layout), each run against the family's systems. Receivers of room r
 * are members r·membersPerRoom … (r+1)·membersPerRoom−1; senders go round robin over the rooms.
 * (On a Redis Cluster the system picks its rooms' ids instead, by the master that serves each
 * one's channel: see placement.ts.)
 */
export const SCENARIO_NAMES = [
  'burst',
  'rate',
  'scaleout',
  'twoproc',
  'rooms',
  'cluster',
  'memory',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/**
 * ChatHub allows a user 10 messages/s with a burst of 20. Every phase therefore uses its own
 * sender identities, each sending at most this many messages, so no send is ever throttled and
 * every message still takes the production path (validated, stored, published). The other
 * systems use exactly the same sender layout.
 */
export const MESSAGES_PER_SENDER = 20;

export interface Scenario {
  name: ScenarioName;
  /** Unique within a run: the name, plus the layout where a family measures several. */
  id: string;
  rooms: number;
  membersPerRoom: number;
  /** Messages every room gets in the measured phase; 0 = connections only (memory). */
  messagesPerRoom: number;
  warmupPerRoom: number;
  mode: SendMode;
  /** How long sending is planned to take. */
  sendMs: number;
  /** How long connections sit idle before the server's memory is sampled. */
  idleMs: number;
}

export interface ScenarioFamily {
  /** What it is for, one line, for the report. */
  purpose: string;
  defaultSystems: SystemName[];
  supports(system: SystemName): boolean;
  scenarios(options: BenchOptions): Scenario[];
}

/** Lets ChatHub's throttled presence broadcasts (every 250 ms while members join) die down. */
export const SETTLE_MS = 750;

export const sendersPerRoom = (messages: number) => Math.ceil(messages / MESSAGES_PER_SENDER);

export function roomIds(scenario: Scenario): string[] {
  if (scenario.rooms === 1) return [ROOM_ID];
  return Array.from({ length: scenario.rooms }, (_, index) => `bench-${index}`);
}

const anySystem = () => true;
const singleRoom = (
  name: ScenarioName,
  clients: number,
  messages: number,
  mode: SendMode,
  sendMs: number,
  options: BenchOptions,
): Scenario => ({
  name,
  id: name,
  rooms: 1,
  membersPerRoom: clients,
  messagesPerRoom: messages,
  warmupPerRoom: options.warmupMessages,
  mode,
  sendMs,
  idleMs: SETTLE_MS,
});

const burst = (name: ScenarioName, clients: number, messages: number, options: BenchOptions) =>
  singleRoom(name, clients, messages, { kind: 'burst' }, 0, options);

const rate = (
  name: ScenarioName,
  clients: number,
  perSecond: number,
  seconds: number,
  options: BenchOptions,
) =>
  singleRoom(
    name,
    clients,
    perSecond * seconds,
    { kind: 'rate', perSecond },
    seconds * 1000,
    options,
  );

export const SCENARIOS: Record<ScenarioName, ScenarioFamily> = {
  burst: {
    purpose: 'one room, every message sent back to back: throughput and latency under load',
    defaultSystems: [
      'chathub',
      'chathub-batched',
      'chathub-trpc-client',
      'chathub-redis-sqlite',
      'chathub-redis-mongo',
      'centrifugo',
      'centrifugo-2core',
      'ws',
      'socketio',
      'trpc-stock',
    ],
    supports: anySystem,
    scenarios: (o) => [burst('burst', o.burstClients, o.burstMessages, o)],
  },
  rate: {
    purpose: 'one room at a steady rate: latency when nobody is overloaded',
    defaultSystems: [
      'chathub',
      'chathub-batched',
      'chathub-trpc-client',
      'centrifugo',
      'ws',
      'socketio',
      'trpc-stock',
    ],
    supports: anySystem,
    scenarios: (o) => [rate('rate', o.rateClients, o.ratePerSecond, o.rateSeconds, o)],
  },
  scaleout: {
    purpose: 'one room on two chat processes over Redis and MongoDB: what crossing servers adds',
    defaultSystems: ['chathub-2proc-mongo'],
    supports: (system) => SYSTEMS[system].processes > 1,
    scenarios: (o) => [
      rate('scaleout', o.scaleoutClients, o.scaleoutPerSecond, o.scaleoutSeconds, o),
    ],
  },
  twoproc: {
    purpose: 'one room split across two chat processes over Redis against one process, burst',
    defaultSystems: ['chathub-redis-sqlite', 'chathub-2proc'],
    supports: isChatHubServer,
    scenarios: (o) => [burst('twoproc', o.twoprocClients, o.twoprocMessages, o)],
  },
  rooms: {
    purpose: 'many rooms with senders in every room, all sent back to back',
    defaultSystems: ['chathub', 'chathub-batched', 'centrifugo', 'ws', 'socketio'],
    supports: anySystem,
    scenarios: (o) =>
      o.roomLayouts.map(({ rooms, members }) => ({
        name: 'rooms',
        id: `rooms ${rooms}×${members}`,
        rooms,
        membersPerRoom: members,
        messagesPerRoom: o.roomsMessages,
        warmupPerRoom: o.roomsWarmup,
        mode: { kind: 'burst' },
        sendMs: 0,
        idleMs: SETTLE_MS,
      })),
  },
  cluster: {
    purpose:
      'many rooms on a Redis Cluster, one chat process per core: Redis CPU per master with every' +
      ' room on one master vs spread over three',
    defaultSystems: ['chathub-cluster-1shard', 'chathub-cluster-3shards'],
    supports: onRedisCluster,
    scenarios: (o) => {
      const { rooms, members: membersPerRoom } = o.clusterLayout;
      const layout = `${rooms}×${membersPerRoom}`;
      const perRoomAtRate = Math.max(1, Math.round((o.clusterRate * o.clusterSeconds) / rooms));
      const common = { name: 'cluster' as const, rooms, membersPerRoom, idleMs: SETTLE_MS };
      return [
        {
          ...common,
          id: `cluster burst ${layout}`,
          messagesPerRoom: o.clusterMessages,
          warmupPerRoom: o.roomsWarmup,
          mode: { kind: 'burst' },
          sendMs: 0,
        },
        {
          ...common,
          id: `cluster rate ${layout}`,
          messagesPerRoom: perRoomAtRate,
          warmupPerRoom: o.roomsWarmup,
          mode: { kind: 'rate', perSecond: o.clusterRate },
          sendMs: Math.round(((perRoomAtRate * rooms) / o.clusterRate) * 1000),
        },
      ];
    },
  },
  memory: {
    purpose: 'idle, authenticated, subscribed connections on one process: memory only',
    defaultSystems: ['chathub', 'chathub-batched', 'centrifugo', 'ws'],
    supports: (system) => SYSTEMS[system].processes === 1,
    scenarios: (o) => [
      {
        name: 'memory',
        id: 'memory',
        rooms: o.memoryRooms,
        membersPerRoom: Math.ceil(o.memoryClients / o.memoryRooms),
        messagesPerRoom: 0,
        warmupPerRoom: 0,
        mode: { kind: 'burst' },
        sendMs: 0,
        idleMs: o.memoryIdleSeconds * 1000,
      },
    ],
  },
};

/** The systems a family runs: its defaults, or those of --systems it supports. */
export function systemsFor(name: ScenarioName, options: BenchOptions): SystemName[] {
  const family = SCENARIOS[name];
  if (!options.systems) return family.defaultSystems;
  return options.systems.filter((system) => family.supports(system));
}
