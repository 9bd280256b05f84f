import { join } from 'node:path';
import type { BenchOptions } from './cli.js';
import { ChildLink } from './ipc.js';
import type {
  ClientApi,
  CollectResult,
  ScenarioName,
  SendMode,
  SendResult,
  ServerApi,
  SystemName,
} from './protocol.js';
import { type LatencySummary, summarizeLatencies } from './stats.js';

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
}

const sendersFor = (messages: number) => Math.ceil(messages / MESSAGES_PER_SENDER);

function splitEvenly<T>(items: T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, part) => items.slice(part * size, (part + 1) * size));
}

interface PhaseOutcome {
  send: SendResult;
  collected: CollectResult[];
  serverCpuMicros: number;
  serverWallMs: number;
}

async function runPhase(
  server: ChildLink<ServerApi>,
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
  const cpuBefore = await server.call('cpu', null, CALL_TIMEOUT_MS);
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
  const cpuAfter = await server.call('cpu', null, CALL_TIMEOUT_MS);
  return {
    send,
    collected,
    serverCpuMicros: cpuAfter.cpuMicros - cpuBefore.cpuMicros,
    serverWallMs: cpuAfter.at - cpuBefore.at,
  };
}

/** One system, one scenario, fresh processes: connect, warm up, measure, tear down. */
export async function measure(
  system: SystemName,
  scenario: Scenario,
  repetition: number,
  options: BenchOptions,
): Promise<Measurement> {
  const profileName = `${system}-${scenario.name}-${repetition}`;
  const server = ChildLink.fork<ServerApi>(
    `${system} server`,
    new URL('./serverProcess.ts', import.meta.url),
    {
      lifetimeMs: SERVER_LIFETIME_MS,
      nodeArgs:
        options.cpuProf === system
          ? [
              '--cpu-prof',
              `--cpu-prof-dir=${options.profileDir}`,
              `--cpu-prof-name=${profileName}-whole.cpuprofile`,
            ]
          : [],
    },
  );
  const clients = Array.from({ length: options.clientProcesses }, (_, index) =>
    ChildLink.fork<ClientApi>(`clients#${index}`, new URL('./clients.ts', import.meta.url), {
      lifetimeMs: SERVER_LIFETIME_MS,
    }),
  );
  try {
    const warmupSenders = sendersFor(options.warmupMessages);
    const endpoint = await server.call(
      'start',
      {
        system,
        receivers: scenario.clients,
        senders: warmupSenders + sendersFor(scenario.messages),
      },
      60_000,
    );
    const receiverShares = splitEvenly(endpoint.receiverCredentials, clients.length);
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
          },
          CONNECT_TIMEOUT_MS + CALL_TIMEOUT_MS,
        ),
      ),
    );
    const connectMs = Math.max(...connected.map((result) => result.ms));
    await sleep(SETTLE_MS);

    const warmup = await runPhase(
      server,
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

    const profiling = options.profile === system;
    if (profiling) await server.call('profileStart', null, CALL_TIMEOUT_MS);
    const outcome = await runPhase(
      server,
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
    return summarize(system, scenario, repetition, outcome, connectMs, profile, options);
  } finally {
    await Promise.all(clients.map((client) => client.shutdown('close', 30_000)));
    await server.shutdown('stop', 30_000);
  }
}

function summarize(
  system: SystemName,
  scenario: Scenario,
  repetition: number,
  { send, collected, serverCpuMicros, serverWallMs }: PhaseOutcome,
  connectMs: number,
  profile: string | null,
  options: BenchOptions,
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
    serverCpuPercent: serverWallMs > 0 ? serverCpuMicros / 10 / serverWallMs : 0,
    serverMicrosPerDelivery: delivered > 0 ? serverCpuMicros / delivered : Number.NaN,
    clientCpuPercent: clientWallMs > 0 ? clientCpuMicros / 10 / clientWallMs : 0,
    clientMicrosPerDelivery: delivered > 0 ? clientCpuMicros / delivered : Number.NaN,
    sendMs: send.lastAckAt - send.firstSendAt,
    profile,
    ...summarizeLatencies(collected.map((part) => part.latencies)),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
