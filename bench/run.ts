import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { BenchOptions } from './cli.js';
import { ChildLink } from './ipc.js';
import type {
  ClientApi,
  CollectResult,
  ScaleOutSetup,
  ScenarioName,
  SendMode,
  SendResult,
  ServerApi,
  SystemName,
} from './protocol.js';
import { type LatencySummary, summarizeLatencies } from './stats.js';

/** Shared Redis and MongoDB server of a scale-out run (the database name is added per run). */
export interface ScaleOutBackend {
  redisUrl: string;
  mongoUrl: string;
}

/** Chat servers in a scale-out run; receivers alternate between them, senders use the first. */
export const SCALE_OUT_SERVERS = 2;

/**
 * ChatHub allows a user 10 messages/s with a burst of 20. Every phase therefore uses its own
 * sender identities, each sending at most this many messages, so no send is ever throttled and
 * every message still takes the production path (validated, stored in SQLite, published).
 * The baselines use exactly the same sender layout.
 */
export const MESSAGES_PER_SENDER = 20;

const SERVER_LIFETIME_MS = 10 * 60_000;
const CONNECT_TIMEOUT_MS = 180_000;
const CALL_TIMEOUT_MS = 10_000;
/** Lets ChatHub's throttled presence broadcasts (every 250 ms while members join) die down. */
const SETTLE_MS = 750;

const WARMUP_PHASE = 1;
const MEASURED_PHASE = 2;

export interface Scenario {
  name: ScenarioName;
  clients: number;
  messages: number;
  mode: SendMode;
  /** How long sending is planned to take. */
  sendMs: number;
}

export function scenarioOf(name: ScenarioName, options: BenchOptions): Scenario {
  if (name === 'scaleout') {
    return {
      name,
      clients: options.scaleoutClients,
      messages: options.scaleoutPerSecond * options.scaleoutSeconds,
      mode: { kind: 'rate', perSecond: options.scaleoutPerSecond },
      sendMs: options.scaleoutSeconds * 1000,
    };
  }
  if (name === 'burst') {
    return {
      name,
      clients: options.burstClients,
      messages: options.burstMessages,
      mode: { kind: 'burst' },
      sendMs: 0,
    };
  }
  return {
    name,
    clients: options.rateClients,
    messages: options.ratePerSecond * options.rateSeconds,
    mode: { kind: 'rate', perSecond: options.ratePerSecond },
    sendMs: options.rateSeconds * 1000,
  };
}

export interface Measurement extends LatencySummary {
  system: SystemName;
  scenario: ScenarioName;
  repetition: number;
  clients: number;
  messages: number;
  expected: number;
  delivered: number;
  /** Every receiver got every message. */
  complete: boolean;
  /** Complete, and (rate scenario) the last delivery came within keepUpMs of the last send. */
  keptUp: boolean;
  /** First send → last delivery, ms. */
  durationMs: number;
  deliveredPerSecond: number;
  /** Last send → last delivery, ms. */
  drainMs: number;
  sendFailed: number;
  receiverErrors: number;
  firstError: string | null;
  connectMs: number;
  /** Server CPU over the measured window, % of one core, and CPU µs per delivery. */
  serverCpuPercent: number;
  serverMicrosPerDelivery: number;
  /** Client processes' CPU over the measured window, % of one core (summed), and µs per delivery. */
  clientCpuPercent: number;
  clientMicrosPerDelivery: number;
  /** First send → last acknowledgement, ms. */
  sendMs: number;
  profile: string | null;
  /** Scale-out: CPU of each chat server (% of one core); the server figures above are summed. */
  serverCpuPercents: number[];
  /** Scale-out: deliveries to receivers on the senders' server vs on the other one. */
  split: { local: SplitSummary; remote: SplitSummary } | null;
}

export interface SplitSummary extends LatencySummary {
  delivered: number;
}

const sendersFor = (messages: number) => Math.ceil(messages / MESSAGES_PER_SENDER);

function splitEvenly<T>(items: T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, part) => items.slice(part * size, (part + 1) * size));
}

interface PhaseOutcome {
  send: SendResult;
  collected: CollectResult[];
  /** Per server. */
  serverCpuMicros: number[];
  serverWallMs: number;
}

async function runPhase(
  servers: ChildLink<ServerApi>[],
  clients: ChildLink<ClientApi>[],
  phase: number,
  messages: number,
  mode: SendMode,
  sendMs: number,
  firstSender: number,
  options: BenchOptions,
): Promise<PhaseOutcome> {
  const sendTimeoutMs = sendMs + options.drainTimeoutMs + 20_000;
  const deadlineMs = sendMs + options.drainTimeoutMs + 20_000;
  await Promise.all(
    clients.map((client) => client.call('arm', { phase, messages, deadlineMs }, CALL_TIMEOUT_MS)),
  );
  const cpuBefore = await Promise.all(
    servers.map((server) => server.call('cpu', null, CALL_TIMEOUT_MS)),
  );
  const collecting = clients.map((client) =>
    client.call('collect', null, deadlineMs + CALL_TIMEOUT_MS),
  );
  const [sender] = clients;
  if (!sender) throw new Error('no client process');
  const send = await sender.call(
    'send',
    {
      phase,
      messages,
      mode,
      firstSender,
      senderCount: sendersFor(messages),
      timeoutMs: sendTimeoutMs,
    },
    sendTimeoutMs + CALL_TIMEOUT_MS,
  );
  const collected = await Promise.all(collecting);
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
  };
}

/**
 * One system, one scenario, fresh processes: connect, warm up, measure, tear down. With a
 * scale-out backend (ChatHub only), two chat server processes share its Redis and a fresh
 * MongoDB database (dropped afterwards); receivers alternate between the servers and every
 * sender is on the first one, so each delivery is either local or remote to its sender.
 */
export async function measure(
  system: SystemName,
  scenario: Scenario,
  repetition: number,
  options: BenchOptions,
  backend: ScaleOutBackend | null = null,
): Promise<Measurement> {
  if (backend && system !== 'chathub' && system !== 'chathub-mongo') {
    throw new Error(`${system} runs on no Redis or MongoDB`);
  }
  if (!backend && system === 'chathub-mongo') throw new Error(`${system} needs Redis and MongoDB`);
  const profileName = `${system}-${scenario.name}-${repetition}`;
  const database = backend ? `chathub_bench_${randomBytes(4).toString('hex')}` : null;
  const scaleOut: ScaleOutSetup | undefined =
    backend && database
      ? { redisUrl: backend.redisUrl, mongoUrl: withDatabase(backend.mongoUrl, database) }
      : undefined;
  const serverCount = scaleOut && scenario.name === 'scaleout' ? SCALE_OUT_SERVERS : 1;
  const servers = Array.from({ length: serverCount }, (_, index) => {
    const suffix = serverCount > 1 ? `-server${index + 1}` : '';
    return ChildLink.fork<ServerApi>(
      `${system} server${serverCount > 1 ? ` ${index + 1}` : ''}`,
      new URL('./serverProcess.ts', import.meta.url),
      {
        lifetimeMs: SERVER_LIFETIME_MS,
        nodeArgs:
          options.cpuProf === system
            ? [
                '--cpu-prof',
                `--cpu-prof-dir=${options.profileDir}`,
                `--cpu-prof-name=${profileName}${suffix}-whole.cpuprofile`,
              ]
            : [],
      },
    );
  });
  const [server] = servers;
  if (!server) throw new Error('no server process');
  const clients = Array.from({ length: options.clientProcesses }, (_, index) =>
    ChildLink.fork<ClientApi>(`clients#${index}`, new URL('./clients.ts', import.meta.url), {
      lifetimeMs: SERVER_LIFETIME_MS,
    }),
  );
  try {
    const warmupSenders = sendersFor(options.warmupMessages);
    // One after another: the first server creates the database's indexes and the room.
    const endpoint = await server.call(
      'start',
      {
        system,
        receivers: scenario.clients,
        senders: warmupSenders + sendersFor(scenario.messages),
        ...(scaleOut ? { scaleOut } : {}),
      },
      60_000,
    );
    const serverUrls = [endpoint.url];
    for (const other of servers.slice(1)) {
      const more = await other.call(
        'start',
        { system, receivers: 0, senders: 0, scaleOut },
        60_000,
      );
      serverUrls.push(more.url);
    }
    // Receiver i on server i mod n: every client process and connect batch holds both kinds.
    const receiverUrls = endpoint.receiverCredentials.map(
      (_, index) => serverUrls[index % serverUrls.length] ?? endpoint.url,
    );
    const receiverShares = splitEvenly(endpoint.receiverCredentials, clients.length);
    const urlShares = splitEvenly(receiverUrls, clients.length);
    const connected = await Promise.all(
      clients.map((client, index) =>
        client.call(
          'connect',
          {
            system,
            url: endpoint.url,
            receiverCredentials: receiverShares[index] ?? [],
            senderCredentials: index === 0 ? endpoint.senderCredentials : [],
            batchSize: options.connectBatch,
            timeoutMs: CONNECT_TIMEOUT_MS,
            ...(serverCount > 1 ? { receiverUrls: urlShares[index] ?? [] } : {}),
          },
          CONNECT_TIMEOUT_MS + CALL_TIMEOUT_MS,
        ),
      ),
    );
    const connectMs = Math.max(...connected.map((result) => result.ms));
    await sleep(SETTLE_MS);

    const warmup = await runPhase(
      servers,
      clients,
      WARMUP_PHASE,
      options.warmupMessages,
      { kind: 'burst' },
      0,
      0,
      options,
    );
    const warmupDelivered = warmup.collected.reduce((sum, part) => sum + part.delivered, 0);
    if (warmupDelivered < scenario.clients * options.warmupMessages) {
      throw new Error(
        `warm-up incomplete: ${warmupDelivered}/${scenario.clients * options.warmupMessages} delivered` +
          ` (${warmup.send.firstError ?? warmup.collected.find((c) => c.firstError)?.firstError ?? 'no error'})`,
      );
    }
    await sleep(SETTLE_MS);

    // Scale-out: the first server (the senders' one) is the one profiled.
    const profiling = options.profile === system;
    if (profiling) await server.call('profileStart', null, CALL_TIMEOUT_MS);
    const outcome = await runPhase(
      servers,
      clients,
      MEASURED_PHASE,
      scenario.messages,
      scenario.mode,
      scenario.sendMs,
      warmupSenders,
      options,
    );
    const profile = profiling
      ? await server.call(
          'profileStop',
          { file: join(options.profileDir, `${profileName}.cpuprofile`) },
          60_000,
        )
      : null;
    return summarize(
      system,
      scenario,
      repetition,
      outcome,
      connectMs,
      profile,
      options,
      serverCount > 1,
    );
  } finally {
    await Promise.all(clients.map((client) => client.shutdown('close', 30_000)));
    await Promise.all(servers.map((each) => each.shutdown('stop', 30_000)));
    if (scaleOut && database) await dropDatabase(scaleOut.mongoUrl, database);
  }
}

function withDatabase(mongoUrl: string, database: string): string {
  const url = new URL(mongoUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function dropDatabase(mongoUrl: string, database: string): Promise<void> {
  const client = new MongoClient(mongoUrl, {
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
  });
  try {
    await client.connect();
    await client.db(database).dropDatabase({ timeoutMS: 30_000 });
  } catch (error) {
    console.error(`  ! could not drop MongoDB database ${database}: ${String(error)}`);
  } finally {
    await client.close().catch(() => {});
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

function summarize(
  system: SystemName,
  scenario: Scenario,
  repetition: number,
  { send, collected, serverCpuMicros, serverWallMs }: PhaseOutcome,
  connectMs: number,
  profile: string | null,
  options: BenchOptions,
  scaleOut: boolean,
): Measurement {
  const expected = scenario.clients * scenario.messages;
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
    system,
    scenario: scenario.name,
    repetition,
    clients: scenario.clients,
    messages: scenario.messages,
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
    connectMs,
    serverCpuPercent: cpuPercent(totalServerCpuMicros),
    serverMicrosPerDelivery: delivered > 0 ? totalServerCpuMicros / delivered : Number.NaN,
    clientCpuPercent: clientWallMs > 0 ? clientCpuMicros / 10 / clientWallMs : 0,
    clientMicrosPerDelivery: delivered > 0 ? clientCpuMicros / delivered : Number.NaN,
    sendMs: send.lastAckAt - send.firstSendAt,
    profile,
    serverCpuPercents: serverCpuMicros.map(cpuPercent),
    split: scaleOut ? splitLatencies(collected) : null,
    ...summarizeLatencies(collected.map((part) => part.latencies)),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
