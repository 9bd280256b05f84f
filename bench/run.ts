import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterNodeView } from '../test/helpers/redisCluster.js';
import type { Backends } from './backends.js';
import type { BenchOptions } from './cli.js';
import { ChildLink } from './ipc.js';
import { roomsOnMasters } from './placement.js';
import { machineBusyMicros } from './procStats.js';
import type {
  ClientApi,
  CollectResult,
  Endpoint,
  MemorySample,
  ReceiverSpec,
  SenderSpec,
  SendMode,
  SendResult,
  ServerApi,
  ServerSetup,
} from './protocol.js';
import { type ClusterCpu, type ClusterProbe, shardCpu } from './redisShards.js';
import { type RelayFigures, relayFigures } from './relay.js';
import { roomIds, type Scenario, SETTLE_MS, sendersPerRoom } from './scenarios.js';
import { type LatencySummary, summarizeLatencies } from './stats.js';
import { SYSTEMS, type SystemName, type SystemSpec } from './systems.js';

const SERVER_LIFETIME_MS = 10 * 60_000;
const CONNECT_TIMEOUT_MS = 180_000;
const CALL_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 60_000;

/**
 * On a Redis Cluster, how long the masters' idle CPU is sampled before the measured phase: two
 * presence heartbeats (every 3 s) of every room.
 */
const CLUSTER_IDLE_MS = 6_000;

const WARMUP_PHASE = 1;
const MEASURED_PHASE = 2;

/** The system could not be started (its services, its binary, its server): a "skipped" row. */
export class StartError extends Error {
  override name = 'StartError';
}

async function starting<T>(what: string, step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    throw new StartError(
      `${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
}

/** What a run needs beyond the system and the scenario. */
export interface RunContext {
  backends: Backends;
  centrifugoBinary: string | null;
}

/** Server memory: summed over the system's processes. */
export interface MemoryFigures {
  rssBefore: number;
  rssAfter: number;
  /** Node servers only (V8 heap after a full GC). */
  heapBefore: number | null;
  heapAfter: number | null;
  /** (after − before) / connections, KB. */
  kbPerConnection: number;
  heapKbPerConnection: number;
}

export interface SplitSummary extends LatencySummary {
  delivered: number;
}

export interface Traffic extends LatencySummary {
  messages: number;
  expected: number;
  delivered: number;
  /** Every receiver got every message. */
  complete: boolean;
  /** Complete, and (rate mode) the last delivery came within keepUpMs of the last send. */
  keptUp: boolean;
  /** First send → last delivery, ms. */
  durationMs: number;
  deliveredPerSecond: number;
  /** Last send → last delivery, ms. */
  drainMs: number;
  sendFailed: number;
  receiverErrors: number;
  firstError: string | null;
  /** Server CPU over the measured window (all processes), % of one core, and µs per delivery. */
  serverCpuPercent: number;
  serverMicrosPerDelivery: number;
  /** Each server process's CPU, % of one core. */
  serverCpuPercents: number[];
  /** On a Redis Cluster: the same over the idle window before (see relay.ts). */
  serverIdleCpuPercents: number[] | null;
  /** Client processes' CPU over the measured window, % of one core (summed), µs per delivery. */
  clientCpuPercent: number;
  clientMicrosPerDelivery: number;
  /** First send → last acknowledgement, ms. */
  sendMs: number;
  /**
   * Everything else the machine ran over the window (other agents' work, the shared Redis /
   * FerretDB, the orchestrator), % of one core: how noisy the run was.
   */
  otherCpuPercent: number;
  /** Several processes: deliveries to receivers on the senders' server vs on another one. */
  split: { local: SplitSummary; remote: SplitSummary } | null;
  /** On a Redis Cluster: each master's CPU over the window, and the relay ceiling it implies. */
  relay: RelayFigures | null;
}

export interface Measurement {
  system: SystemName;
  scenario: Scenario;
  repetition: number;
  receivers: number;
  /** Receivers + senders. */
  connections: number;
  connectMs: number;
  memory: MemoryFigures;
  /** Null for a scenario without messages (memory). */
  traffic: Traffic | null;
  profile: string | null;
}

function splitEvenly<T>(items: T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, part) => items.slice(part * size, (part + 1) * size));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sender identities: the warm-up's first, then the measured phase's; sender k is in room k mod rooms. */
function senderLayout(scenario: Scenario) {
  const warmup = scenario.rooms * sendersPerRoom(scenario.warmupPerRoom);
  const measured = scenario.rooms * sendersPerRoom(scenario.messagesPerRoom);
  return { warmup, measured, total: warmup + measured };
}

interface PhaseOutcome {
  send: SendResult;
  collected: CollectResult[];
  /** Per server process. */
  serverCpuMicros: number[];
  serverWallMs: number;
  /** The whole machine's CPU time over the same window. */
  machineCpuMicros: number;
  clusterCpu: ClusterCpu | null;
}

/** The Redis Cluster a run is on, and the rooms it put where. */
interface ClusterRun {
  probe: ClusterProbe;
  nodes: ClusterNodeView[];
  rooms: string[];
}

interface Phase {
  phase: number;
  perRoom: number;
  mode: SendMode;
  sendMs: number;
  firstSender: number;
}

async function runPhase(
  servers: ChildLink<ServerApi>[],
  clients: ChildLink<ClientApi>[],
  cluster: ClusterRun | null,
  scenario: Scenario,
  { phase, perRoom, mode, sendMs, firstSender }: Phase,
  options: BenchOptions,
): Promise<PhaseOutcome> {
  const deadlineMs = sendMs + options.drainTimeoutMs + 20_000;
  await Promise.all(
    clients.map((client) =>
      client.call('arm', { phase, messages: perRoom, deadlineMs }, CALL_TIMEOUT_MS),
    ),
  );
  const cpuBefore = await Promise.all(
    servers.map((server) => server.call('cpu', null, CALL_TIMEOUT_MS)),
  );
  const clusterBefore = await cluster?.probe.cpu(cluster.nodes);
  const machineBefore = machineBusyMicros();
  const collecting = clients.map((client) =>
    client.call('collect', null, deadlineMs + CALL_TIMEOUT_MS),
  );
  const [sender] = clients;
  if (!sender) throw new Error('no client process');
  const send = await sender.call(
    'send',
    {
      phase,
      messages: perRoom * scenario.rooms,
      mode,
      firstSender,
      senderCount: scenario.rooms * sendersPerRoom(perRoom),
      timeoutMs: deadlineMs,
    },
    deadlineMs + CALL_TIMEOUT_MS,
  );
  const collected = await Promise.all(collecting);
  const machineAfter = machineBusyMicros();
  const clusterAfter = await cluster?.probe.cpu(cluster.nodes);
  const cpuAfter = await Promise.all(
    servers.map((server) => server.call('cpu', null, CALL_TIMEOUT_MS)),
  );
  const [before] = cpuBefore;
  const [after] = cpuAfter;
  return {
    send,
    collected,
    serverCpuMicros: cpuAfter.map(
      (sample, index) => sample.cpuMicros - (cpuBefore[index]?.cpuMicros ?? sample.cpuMicros),
    ),
    serverWallMs: after && before ? after.at - before.at : 0,
    machineCpuMicros: machineAfter - machineBefore,
    clusterCpu:
      cluster && clusterBefore && clusterAfter
        ? shardCpu(cluster.nodes, clusterBefore, clusterAfter, cluster.rooms)
        : null,
  };
}

/** What the servers and the cluster's masters spend while every connection sits idle. */
interface IdleWindow {
  cluster: ClusterCpu;
  /** Per server process, % of one core. */
  serverCpuPercents: number[];
}

async function idleWindow(
  servers: ChildLink<ServerApi>[],
  { probe, nodes, rooms }: ClusterRun,
): Promise<IdleWindow> {
  const serverCpu = () => Promise.all(servers.map((s) => s.call('cpu', null, CALL_TIMEOUT_MS)));
  const [serversBefore, before] = await Promise.all([serverCpu(), probe.cpu(nodes)]);
  await sleep(CLUSTER_IDLE_MS);
  const [serversAfter, after] = await Promise.all([serverCpu(), probe.cpu(nodes)]);
  return {
    cluster: shardCpu(nodes, before, after, rooms),
    serverCpuPercents: serversAfter.map((sample, index) => {
      const was = serversBefore[index] ?? sample;
      return (sample.cpuMicros - was.cpuMicros) / 10 / Math.max(1, sample.at - was.at);
    }),
  };
}

/**
 * The run's rooms: the scenario's, or on a Redis Cluster the ones whose channels live on the
 * masters the system asks for.
 */
async function placeRooms(
  spec: SystemSpec,
  scenario: Scenario,
  probe: ClusterProbe | null,
): Promise<{ rooms: string[]; cluster: ClusterRun | null }> {
  if (!probe) {
    if (spec.roomShards) throw new StartError('a Redis Cluster system without a cluster');
    return { rooms: roomIds(scenario), cluster: null };
  }
  const nodes = await starting('Redis Cluster unreadable', probe.nodes());
  const masters = nodes.filter((node) => node.role === 'master' && !node.failed);
  const rooms = roomsOnMasters(masters, spec.roomShards ?? masters.length, scenario.rooms);
  return { rooms, cluster: { probe, nodes, rooms } };
}

function forkServers(
  system: SystemName,
  scenario: Scenario,
  repetition: number,
  options: BenchOptions,
) {
  const { processes } = SYSTEMS[system];
  const profileName = `${system}-${scenario.id.replace(/\W+/g, '-')}-${repetition}`;
  return Array.from({ length: processes }, (_, index) => {
    const suffix = processes > 1 ? `-server${index + 1}` : '';
    const cpuProf =
      options.cpuProf === system
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${options.profileDir}`,
            `--cpu-prof-name=${profileName}${suffix}-whole.cpuprofile`,
          ]
        : [];
    return ChildLink.fork<ServerApi>(
      `${system} server${processes > 1 ? ` ${index + 1}` : ''}`,
      new URL('./serverProcess.ts', import.meta.url),
      { lifetimeMs: SERVER_LIFETIME_MS, nodeArgs: ['--expose-gc', ...cpuProf] },
    );
  });
}

/** Starts the first server with every identity, then the others (same store, no identities). */
async function startServers(
  servers: ChildLink<ServerApi>[],
  setup: ServerSetup,
): Promise<{ endpoint: Endpoint; urls: string[] }> {
  const [first, ...others] = servers;
  if (!first) throw new Error('no server process');
  const endpoint = await first.call('start', setup, START_TIMEOUT_MS);
  const urls = [endpoint.url];
  for (const other of others) {
    const more = await other.call(
      'start',
      { ...setup, roomIds: [], receivers: 0, senders: 0 },
      START_TIMEOUT_MS,
    );
    urls.push(more.url);
  }
  return { endpoint, urls };
}

function sumMemory(samples: MemorySample[]): { rss: number; heap: number | null } {
  const heaps = samples.map((sample) => sample.heapUsed);
  return {
    rss: samples.reduce((sum, sample) => sum + sample.rss, 0),
    heap: heaps.every((heap) => heap !== null) ? heaps.reduce((sum, heap) => sum + heap, 0) : null,
  };
}

function memoryFigures(
  before: MemorySample[],
  after: MemorySample[],
  connections: number,
): MemoryFigures {
  const was = sumMemory(before);
  const is = sumMemory(after);
  const perConnection = (delta: number) =>
    connections > 0 ? delta / 1024 / connections : Number.NaN;
  return {
    rssBefore: was.rss,
    rssAfter: is.rss,
    heapBefore: was.heap,
    heapAfter: is.heap,
    kbPerConnection: perConnection(is.rss - was.rss),
    heapKbPerConnection:
      was.heap !== null && is.heap !== null ? perConnection(is.heap - was.heap) : Number.NaN,
  };
}

/**
 * One system, one scenario, fresh processes: start the server(s), connect every member and
 * sender, sample memory, warm up, measure, tear down. Receivers alternate between the servers of
 * a multi-process system; every sender is on the first, so each delivery is local or remote.
 */
export async function measure(
  system: SystemName,
  scenario: Scenario,
  repetition: number,
  options: BenchOptions,
  context: RunContext,
): Promise<Measurement> {
  const spec = SYSTEMS[system];
  const backend = await starting(
    `no ${spec.backend} services`,
    context.backends.forRun(spec.backend),
  );
  const { rooms, cluster } = await placeRooms(spec, scenario, backend.cluster);
  const dataDir = spec.sharedDataDir ? mkdtempSync(join(tmpdir(), 'chathub-bench-')) : undefined;
  const servers = forkServers(system, scenario, repetition, options);
  const clients = Array.from({ length: options.clientProcesses }, (_, index) =>
    ChildLink.fork<ClientApi>(`clients#${index}`, new URL('./clients.ts', import.meta.url), {
      lifetimeMs: SERVER_LIFETIME_MS,
    }),
  );
  const receiverCount = scenario.rooms * scenario.membersPerRoom;
  const senders = senderLayout(scenario);
  try {
    const { endpoint, urls } = await starting(
      'could not start',
      startServers(servers, {
        kind: spec.server,
        roomIds: rooms,
        receivers: receiverCount,
        senders: senders.total,
        backend: backend.urls,
        ...(dataDir ? { dataDir } : {}),
        ...(spec.maxProcs ? { maxProcs: spec.maxProcs } : {}),
        ...(context.centrifugoBinary ? { binary: context.centrifugoBinary } : {}),
      }),
    );
    const memoryBefore = await Promise.all(
      servers.map((server) => server.call('memory', null, CALL_TIMEOUT_MS)),
    );

    const receivers: ReceiverSpec[] = endpoint.receiverCredentials.map((credential, index) => ({
      credential,
      roomId: rooms[Math.floor(index / scenario.membersPerRoom)] ?? rooms[0] ?? '',
      url: urls[index % urls.length] ?? endpoint.url,
    }));
    const senderSpecs: SenderSpec[] = endpoint.senderCredentials.map((credential, index) => ({
      credential,
      roomId: rooms[index % rooms.length] ?? '',
    }));
    const shares = splitEvenly(receivers, clients.length);
    const connected = await Promise.all(
      clients.map((client, index) =>
        client.call(
          'connect',
          {
            client: spec.client,
            url: endpoint.url,
            receivers: shares[index] ?? [],
            senders: index === 0 ? senderSpecs : [],
            batchSize: options.connectBatch,
            timeoutMs: CONNECT_TIMEOUT_MS,
          },
          CONNECT_TIMEOUT_MS + CALL_TIMEOUT_MS,
        ),
      ),
    );
    const connectMs = Math.max(...connected.map((result) => result.ms));
    await sleep(scenario.idleMs);
    const memoryAfter = await Promise.all(
      servers.map((server) => server.call('memory', null, CALL_TIMEOUT_MS)),
    );
    const connections = receiverCount + senders.total;
    const base = {
      system,
      scenario,
      repetition,
      receivers: receiverCount,
      connections,
      connectMs,
      memory: memoryFigures(memoryBefore, memoryAfter, connections),
    };
    if (scenario.messagesPerRoom === 0) return { ...base, traffic: null, profile: null };

    if (scenario.warmupPerRoom > 0) {
      const warmup = await runPhase(
        servers,
        clients,
        cluster,
        scenario,
        {
          phase: WARMUP_PHASE,
          perRoom: scenario.warmupPerRoom,
          mode: { kind: 'burst' },
          sendMs: 0,
          firstSender: 0,
        },
        options,
      );
      assertComplete(warmup, receiverCount * scenario.warmupPerRoom);
      await sleep(SETTLE_MS);
    }

    const idle = cluster ? await idleWindow(servers, cluster) : null;
    // Several processes: the first (the senders' one) is the one profiled.
    const [profiled] = servers;
    const profiling = options.profile === system && profiled;
    if (profiling) await profiled.call('profileStart', null, CALL_TIMEOUT_MS);
    const outcome = await runPhase(
      servers,
      clients,
      cluster,
      scenario,
      {
        phase: MEASURED_PHASE,
        perRoom: scenario.messagesPerRoom,
        mode: scenario.mode,
        sendMs: scenario.sendMs,
        firstSender: senders.warmup,
      },
      options,
    );
    const profile = profiling
      ? await profiled.call(
          'profileStop',
          {
            file: join(
              options.profileDir,
              `${system}-${scenario.id.replace(/\W+/g, '-')}-${repetition}.cpuprofile`,
            ),
          },
          60_000,
        )
      : null;
    return {
      ...base,
      traffic: traffic(scenario, receiverCount, outcome, options, spec.processes > 1, idle),
      profile,
    };
  } finally {
    await Promise.all(clients.map((client) => client.shutdown('close', 30_000)));
    await Promise.all(servers.map((each) => each.shutdown('stop', 30_000)));
    await backend.release();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

function assertComplete(warmup: PhaseOutcome, expected: number): void {
  const delivered = warmup.collected.reduce((sum, part) => sum + part.delivered, 0);
  if (delivered < expected) {
    const error =
      warmup.send.firstError ??
      warmup.collected.find((part) => part.firstError)?.firstError ??
      'no error';
    throw new Error(`warm-up incomplete: ${delivered}/${expected} delivered (${error})`);
  }
}

/** Latencies of local and remote deliveries, from every client process's labelled latencies. */
function splitLatencies(collected: CollectResult[]): { local: SplitSummary; remote: SplitSummary } {
  const local: Float64Array[] = [];
  const remote: Float64Array[] = [];
  for (const part of collected) {
    const remoteCount = part.remote.reduce((sum, flag) => sum + flag, 0);
    const mine = new Float64Array(part.latencies.length - remoteCount);
    const theirs = new Float64Array(remoteCount);
    let m = 0;
    let t = 0;
    for (let index = 0; index < part.latencies.length; index++) {
      const latency = part.latencies[index] ?? Number.NaN;
      if (part.remote[index]) theirs[t++] = latency;
      else mine[m++] = latency;
    }
    local.push(mine);
    remote.push(theirs);
  }
  const summary = (parts: Float64Array[]): SplitSummary => ({
    delivered: parts.reduce((sum, part) => sum + part.length, 0),
    ...summarizeLatencies(parts),
  });
  return { local: summary(local), remote: summary(remote) };
}

function traffic(
  scenario: Scenario,
  receivers: number,
  { send, collected, serverCpuMicros, serverWallMs, machineCpuMicros, clusterCpu }: PhaseOutcome,
  options: BenchOptions,
  split: boolean,
  idle: IdleWindow | null,
): Traffic {
  const expected = receivers * scenario.messagesPerRoom;
  const delivered = collected.reduce((sum, part) => sum + part.delivered, 0);
  const lastReceiveAt = Math.max(...collected.map((part) => part.lastReceiveAt));
  const durationMs = lastReceiveAt - send.firstSendAt;
  const drainMs = lastReceiveAt - send.lastSendAt;
  const complete =
    delivered === expected &&
    send.failed === 0 &&
    collected.every((part) => part.completeReceivers === part.receivers);
  const clientCpuMicros = collected.reduce((sum, part) => sum + part.cpuMicros, 0);
  const clientWallMs = Math.max(...collected.map((part) => part.wallMs));
  const totalServerCpuMicros = serverCpuMicros.reduce((sum, micros) => sum + micros, 0);
  const cpuPercent = (micros: number) => (serverWallMs > 0 ? micros / 10 / serverWallMs : 0);
  return {
    messages: scenario.messagesPerRoom * scenario.rooms,
    expected,
    delivered,
    complete,
    keptUp: complete && (scenario.mode.kind === 'burst' || drainMs <= options.keepUpMs),
    durationMs,
    deliveredPerSecond: durationMs > 0 ? (delivered / durationMs) * 1000 : 0,
    drainMs,
    sendFailed: send.failed,
    receiverErrors: collected.reduce((sum, part) => sum + part.errors, 0),
    firstError: send.firstError ?? collected.find((part) => part.firstError)?.firstError ?? null,
    serverCpuPercent: cpuPercent(totalServerCpuMicros),
    serverMicrosPerDelivery: delivered > 0 ? totalServerCpuMicros / delivered : Number.NaN,
    serverCpuPercents: serverCpuMicros.map(cpuPercent),
    clientCpuPercent: clientWallMs > 0 ? clientCpuMicros / 10 / clientWallMs : 0,
    clientMicrosPerDelivery: delivered > 0 ? clientCpuMicros / delivered : Number.NaN,
    sendMs: send.lastAckAt - send.firstSendAt,
    otherCpuPercent: Math.max(
      0,
      cpuPercent(machineCpuMicros - totalServerCpuMicros - clientCpuMicros),
    ),
    split: split ? splitLatencies(collected) : null,
    relay:
      clusterCpu && idle ? relayFigures(clusterCpu, idle.cluster, send.sent - send.failed) : null,
    serverIdleCpuPercents: idle?.serverCpuPercents ?? null,
    ...summarizeLatencies(collected.map((part) => part.latencies)),
  };
}
