import type { BenchOptions } from './cli.js';
import { type RelayFigures, summarizeRelay } from './relay.js';
import type { Measurement, Traffic } from './run.js';
import { MESSAGES_PER_SENDER, type Scenario, sendersPerRoom } from './scenarios.js';
import { median } from './stats.js';
import { SYSTEMS, type SystemName } from './systems.js';

/** Local = receiver on the senders' server, remote = on another one. Medians over runs. */
export interface SplitFigures {
  local: { p50: number; p99: number };
  remote: { p50: number; p99: number };
  /** Median over runs of (remote − local) within the run, ms. */
  remoteMinusLocal: { p50: number; p99: number };
}

export interface TrafficSummary {
  messages: number;
  deliveredPerSecond: number;
  /** Messages / (first send → last acknowledgement), per second. */
  ackedPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  drainMs: number;
  /** Repetitions in which every delivery arrived / the system kept up. */
  completeRuns: number;
  keptUpRuns: number;
  serverCpuPercent: number;
  serverMicrosPerDelivery: number;
  /** Per server process, % of one core; and over the idle window (Redis Cluster runs). */
  serverCpuPercents: number[];
  serverIdleCpuPercents: number[] | null;
  clientCpuPercent: number;
  clientMicrosPerDelivery: number;
  otherCpuPercent: number;
  split: SplitFigures | null;
  relay: RelayFigures | null;
}

/** The per-system figures a scenario is summarised by: medians over repetitions. */
export interface SystemSummary {
  runs: number;
  receivers: number;
  connections: number;
  connectMs: number;
  rssAfterMb: number;
  heapAfterMb: number;
  kbPerConnection: number;
  heapKbPerConnection: number;
  traffic: TrafficSummary | null;
}

export interface ScenarioSummary {
  scenario: Scenario;
  systems: Partial<Record<SystemName, SystemSummary>>;
  /** Systems with no figures, and why (could not be built or started, or every run failed). */
  skipped: Partial<Record<SystemName, string>>;
}

export const fmtInt = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
export const fmtMs = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const fmtKb = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const fmtMb = (bytes: number | null) =>
  bytes !== null && Number.isFinite(bytes) ? (bytes / 1024 / 1024).toFixed(1) : 'n/a';
const fmtDelta = (value: number) =>
  Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(1)}` : 'n/a';
const fmtCpus = (values: number[]) =>
  values.map((value) => (Number.isFinite(value) ? `${value.toFixed(0)}%` : 'n/a')).join(' / ');
const fmtShares = (values: number[]) =>
  values
    .map((value) => `${Number.isFinite(value) ? (value * 100).toFixed(0) : 'n/a'}%`)
    .join(' / ');
const fmtSeconds = (ms: number) => (ms / 1000).toFixed(1);

interface Column<T> {
  title: string;
  value(row: T): string;
}

export function table<T>(columns: Column<T>[], rows: T[]): string {
  const cells = [
    columns.map((column) => column.title),
    ...rows.map((row) => columns.map((c) => c.value(row))),
  ];
  const widths = columns.map((_, index) =>
    Math.max(...cells.map((line) => (line[index] ?? '').length)),
  );
  return cells
    .map((line) =>
      line
        .map((cell, index) =>
          index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
        )
        .join('  '),
    )
    .join('\n');
}

export function describeScenario(
  scenario: Scenario,
  purpose: string,
  systems: SystemName[],
  options: BenchOptions,
): string {
  const members = scenario.rooms * scenario.membersPerRoom;
  const where =
    scenario.rooms === 1
      ? `${fmtInt(members)} clients in one room`
      : `${fmtInt(scenario.rooms)} rooms × ${fmtInt(scenario.membersPerRoom)} members (${fmtInt(members)} clients)`;
  const lines = [`== ${scenario.id}: ${purpose} ==`];
  if (scenario.messagesPerRoom === 0) {
    lines.push(
      `   ${where}, idle for ${fmtSeconds(scenario.idleMs)} s before memory is sampled; no messages`,
    );
  } else {
    const messages = scenario.messagesPerRoom * scenario.rooms;
    const how =
      scenario.mode.kind === 'burst'
        ? `${fmtInt(messages)} messages sent back to back`
        : `${scenario.mode.perSecond} msg/s for ${scenario.sendMs / 1000} s (${fmtInt(messages)} messages)`;
    const senders = scenario.rooms * sendersPerRoom(scenario.messagesPerRoom);
    lines.push(
      `   ${where}, ${how}${scenario.rooms > 1 ? ` (${scenario.messagesPerRoom} per room)` : ''};` +
        ` ${fmtInt(members * scenario.messagesPerRoom)} deliveries expected per run`,
      `   ${fmtInt(senders)} sender connections round robin over the rooms, ≤${MESSAGES_PER_SENDER}` +
        ' messages each (ChatHub: chat.send mutations, stored before fan-out, under its per-user limit);' +
        ` warm-up of ${scenario.warmupPerRoom} message(s) per room before each measurement`,
    );
  }
  lines.push(
    `   systems: ${systems.join(', ')}; ${options.clientProcesses} client process(es);` +
      ' every receiver a bare ws client (chathub-trpc-client: the stock @trpc/client)',
  );
  return lines.join('\n');
}

function status(t: Traffic, rate: boolean): string {
  if (rate) return t.keptUp ? 'kept up' : 'did NOT keep up';
  return t.complete ? 'complete' : 'INCOMPLETE';
}

/** One line while the benchmark runs. */
export function progressLine(m: Measurement): string {
  const head = `   ${m.system.padEnd(20)} rep ${m.repetition + 1}:`;
  const memory = `${fmtKb(m.memory.kbPerConnection)} KB/conn`;
  const t = m.traffic;
  if (!t) {
    return `${head} ${fmtInt(m.connections)} connections in ${fmtSeconds(m.connectMs)} s, ${memory}`;
  }
  return (
    `${head} ${fmtInt(t.deliveredPerSecond)} delivered/s, p50 ${fmtMs(t.p50)} ms,` +
    ` p99 ${fmtMs(t.p99)} ms, ${status(t, m.scenario.mode.kind === 'rate')}, ${memory}` +
    (t.split
      ? `; local p50/p99 ${fmtMs(t.split.local.p50)}/${fmtMs(t.split.local.p99)} ms,` +
        ` remote ${fmtMs(t.split.remote.p50)}/${fmtMs(t.split.remote.p99)} ms`
      : '') +
    (t.relay
      ? `; Redis masters ${fmtCpus(t.relay.masterCpuPercents)} (idle ${fmtCpus(t.relay.idleCpuPercents)}),` +
        ` busiest ${t.relay.busiestMicrosPerPublish.toFixed(1)} µs/pub`
      : '')
  );
}

export const LEGEND = `
delivered/s = all deliveries / (first send → last delivery to the last client).
p50/p99/max = send → receive latency per delivery, from the timestamp in the message body.
srv/cli CPU = CPU of the server process(es) / client process(es) over the measured window, in %
              of one core (several servers: each one's, "a / b").
srv µs/dlv  = server CPU time per delivery: the server's own cost, whatever the clients' speed.
cli µs/dlv  = client CPU time per delivery (bare ws clients, or the stock @trpc/client for
              chathub-trpc-client).
KB/conn     = (server RSS once every client is connected and settled − RSS before) / connections
              (receivers + senders), all server processes summed. heap = V8 heap after a full GC
              (node servers only).
acked ms    = first send → last send acknowledged; acked/s = messages / acked ms: what the write
              path (validate, store, publish) took in, all rooms together.
Redis Cluster runs (cluster):
srv idle    = each chat process's CPU over the idle window (below), % of one core.
Per master in the order of their slots, "a / b / c":
rooms       = the run's rooms whose channel (and presence key) the master serves.
master CPU  = each master's CPU (INFO cpu: used_cpu_sys + used_cpu_user) over the measured window,
              % of one core; master idle = the same over 6 s with every client connected and no
              messages (presence heartbeats, discovery, cluster cron), just before;
              replica CPU = its replica's over the measured window (sharded pub/sub reaches
              replicas too). Relay CPU = master CPU − idle rate × window; relay share = its part.
Redis µs/pub = all masters' relay CPU per chat.send (one SPUBLISH each, relayed to every chat
              process with members in the room); busiest µs/pub = the busiest master's.
relay ceiling = publishes/s at which the busiest master would spend a whole core relaying, the
              load growing evenly (1 / busiest µs/pub): what the cluster could relay, whatever
              the chat processes on this machine can feed it.
other CPU   = the rest of the machine over the measured window (other agents, Redis / FerretDB,
              this orchestrator), % of one core, out of 200%: how noisy the run was.
kept up     = rate scenarios: every delivery arrived, the last within --keep-up-ms of the last send.
local/remote = several chat processes: receiver on the senders' process / on the other one. With
              Redis, local deliveries also go through Redis pub/sub, so Δ = remote − local (same
              run, same client process) is what the hop to another process adds on top.`;

const trafficColumn = (title: string, value: (t: Traffic) => string): Column<Measurement> => ({
  title,
  value: (m) => (m.traffic ? value(m.traffic) : 'n/a'),
});

function splitColumns(): Column<Measurement>[] {
  const split = (pick: (s: NonNullable<Traffic['split']>) => number) => (t: Traffic) =>
    fmtMs(t.split ? pick(t.split) : Number.NaN);
  return [
    trafficColumn(
      'local p50',
      split((s) => s.local.p50),
    ),
    trafficColumn(
      'local p99',
      split((s) => s.local.p99),
    ),
    trafficColumn(
      'remote p50',
      split((s) => s.remote.p50),
    ),
    trafficColumn(
      'remote p99',
      split((s) => s.remote.p99),
    ),
    trafficColumn('Δp50', (t) =>
      fmtDelta(t.split ? t.split.remote.p50 - t.split.local.p50 : Number.NaN),
    ),
    trafficColumn('Δp99', (t) =>
      fmtDelta(t.split ? t.split.remote.p99 - t.split.local.p99 : Number.NaN),
    ),
  ];
}

/** Redis Cluster figures, for runs and summaries alike. */
function relayColumns<T>(
  traffic: (row: T) => Pick<Traffic, 'relay' | 'serverIdleCpuPercents'> | null,
  shares: boolean,
): Column<T>[] {
  const relay = (row: T) => traffic(row)?.relay ?? null;
  const column = (title: string, value: (r: RelayFigures) => string): Column<T> => ({
    title,
    value: (row) => {
      const figures = relay(row);
      return figures ? value(figures) : 'n/a';
    },
  });
  return [
    {
      title: 'srv idle',
      value: (row) => fmtCpus(traffic(row)?.serverIdleCpuPercents ?? [Number.NaN]),
    },
    column('rooms', (r) => r.rooms.join(' / ')),
    column('master CPU', (r) => fmtCpus(r.masterCpuPercents)),
    column('master idle', (r) => fmtCpus(r.idleCpuPercents)),
    ...(shares ? [column('relay share', (r) => fmtShares(r.shares))] : []),
    column('replica CPU', (r) => fmtCpus(r.replicaCpuPercents)),
    column('Redis µs/pub', (r) => r.microsPerPublish.toFixed(1)),
    column('busiest µs/pub', (r) => r.busiestMicrosPerPublish.toFixed(1)),
    column('relay ceiling/s', (r) => fmtInt(r.ceilingPerSecond)),
  ];
}

function runColumns(measurements: Measurement[]): Column<Measurement>[] {
  const system: Column<Measurement> = { title: 'system', value: (m) => m.system };
  const rep: Column<Measurement> = { title: 'rep', value: (m) => String(m.repetition + 1) };
  const kb: Column<Measurement> = {
    title: 'KB/conn',
    value: (m) => fmtKb(m.memory.kbPerConnection),
  };
  const connect: Column<Measurement> = {
    title: 'connect s',
    value: (m) => fmtSeconds(m.connectMs),
  };
  const [first] = measurements;
  if (!first?.traffic) {
    return [
      system,
      rep,
      { title: 'connections', value: (m) => fmtInt(m.connections) },
      connect,
      { title: 'RSS before MB', value: (m) => fmtMb(m.memory.rssBefore) },
      { title: 'RSS after MB', value: (m) => fmtMb(m.memory.rssAfter) },
      kb,
      { title: 'heap after MB', value: (m) => fmtMb(m.memory.heapAfter) },
      { title: 'heap KB/conn', value: (m) => fmtKb(m.memory.heapKbPerConnection) },
    ];
  }
  const rate = first.scenario.mode.kind === 'rate';
  return [
    system,
    rep,
    { title: 'clients', value: (m) => fmtInt(m.receivers) },
    trafficColumn('delivered', (t) => `${fmtInt(t.delivered)}/${fmtInt(t.expected)}`),
    trafficColumn('delivered/s', (t) => fmtInt(t.deliveredPerSecond)),
    trafficColumn('p50 ms', (t) => fmtMs(t.p50)),
    trafficColumn('p99 ms', (t) => fmtMs(t.p99)),
    trafficColumn('max ms', (t) => fmtMs(t.max)),
    rate
      ? trafficColumn('kept up', (t) => (t.keptUp ? 'yes' : `NO (drain ${fmtMs(t.drainMs)} ms)`))
      : trafficColumn('complete', (t) => (t.complete ? 'yes' : 'NO')),
    ...(measurements.some((m) => m.traffic?.split) ? splitColumns() : []),
    trafficColumn('srv CPU', (t) => fmtCpus(t.serverCpuPercents)),
    trafficColumn('srv µs/dlv', (t) => t.serverMicrosPerDelivery.toFixed(2)),
    trafficColumn('cli CPU', (t) => `${t.clientCpuPercent.toFixed(0)}%`),
    trafficColumn('cli µs/dlv', (t) => t.clientMicrosPerDelivery.toFixed(2)),
    kb,
    trafficColumn('acked ms', (t) => fmtMs(t.sendMs)),
    connect,
    trafficColumn('other CPU', (t) => `${t.otherCpuPercent.toFixed(0)}%`),
    ...(measurements.some((m) => m.traffic?.relay)
      ? relayColumns((m: Measurement) => m.traffic, false)
      : []),
  ];
}

/** Every repetition of a scenario, then anything that went wrong in them. */
export function printRuns(measurements: Measurement[]): void {
  const [first] = measurements;
  if (!first) return;
  console.log(`\n-- ${first.scenario.id}: every run --`);
  console.log(table(runColumns(measurements), measurements));
  for (const m of measurements) {
    const t = m.traffic;
    const notes = [
      t?.sendFailed ? `${t.sendFailed} sends failed` : '',
      t?.receiverErrors ? `${t.receiverErrors} receiver errors` : '',
      t?.firstError ? `first error: ${t.firstError}` : '',
      m.profile ? `CPU profile of the measured phase: ${m.profile}` : '',
    ].filter(Boolean);
    if (notes.length) console.log(`   ${m.system} rep ${m.repetition + 1}: ${notes.join('; ')}`);
  }
}

function summarizeTraffic(runs: Traffic[]): TrafficSummary | null {
  const [first] = runs;
  if (!first) return null;
  const pick = (value: (t: Traffic) => number) => median(runs.map(value));
  const splits = runs.flatMap((t) => (t.split ? [t.split] : []));
  const processes = Math.max(...runs.map((t) => t.serverCpuPercents.length));
  return {
    messages: first.messages,
    deliveredPerSecond: pick((t) => t.deliveredPerSecond),
    ackedPerSecond: pick((t) => (t.sendMs > 0 ? (t.messages / t.sendMs) * 1000 : Number.NaN)),
    p50: pick((t) => t.p50),
    p99: pick((t) => t.p99),
    max: pick((t) => t.max),
    drainMs: pick((t) => t.drainMs),
    completeRuns: runs.filter((t) => t.complete).length,
    keptUpRuns: runs.filter((t) => t.keptUp).length,
    serverCpuPercent: pick((t) => t.serverCpuPercent),
    serverMicrosPerDelivery: pick((t) => t.serverMicrosPerDelivery),
    serverCpuPercents: Array.from({ length: processes }, (_, index) =>
      pick((t) => t.serverCpuPercents[index] ?? Number.NaN),
    ),
    serverIdleCpuPercents: runs.some((t) => t.serverIdleCpuPercents)
      ? Array.from({ length: processes }, (_, index) =>
          pick((t) => t.serverIdleCpuPercents?.[index] ?? Number.NaN),
        )
      : null,
    clientCpuPercent: pick((t) => t.clientCpuPercent),
    clientMicrosPerDelivery: pick((t) => t.clientMicrosPerDelivery),
    otherCpuPercent: pick((t) => t.otherCpuPercent),
    split: splits.length
      ? {
          local: {
            p50: median(splits.map((s) => s.local.p50)),
            p99: median(splits.map((s) => s.local.p99)),
          },
          remote: {
            p50: median(splits.map((s) => s.remote.p50)),
            p99: median(splits.map((s) => s.remote.p99)),
          },
          remoteMinusLocal: {
            p50: median(splits.map((s) => s.remote.p50 - s.local.p50)),
            p99: median(splits.map((s) => s.remote.p99 - s.local.p99)),
          },
        }
      : null,
    relay: summarizeRelay(runs.flatMap((t) => (t.relay ? [t.relay] : []))),
  };
}

export function summarizeScenario(
  scenario: Scenario,
  systems: SystemName[],
  measurements: Measurement[],
  skipped: Partial<Record<SystemName, string>>,
): ScenarioSummary {
  const summaries: ScenarioSummary['systems'] = {};
  for (const system of systems) {
    const runs = measurements.filter((m) => m.system === system);
    const [first] = runs;
    if (!first) continue;
    const pick = (value: (m: Measurement) => number | null) =>
      median(runs.map((m) => value(m) ?? Number.NaN));
    summaries[system] = {
      runs: runs.length,
      receivers: first.receivers,
      connections: first.connections,
      connectMs: pick((m) => m.connectMs),
      rssAfterMb: pick((m) => m.memory.rssAfter) / 1024 / 1024,
      heapAfterMb: pick((m) => m.memory.heapAfter) / 1024 / 1024,
      kbPerConnection: pick((m) => m.memory.kbPerConnection),
      heapKbPerConnection: pick((m) => m.memory.heapKbPerConnection),
      traffic: summarizeTraffic(runs.flatMap((m) => (m.traffic ? [m.traffic] : []))),
    };
  }
  return { scenario, systems: summaries, skipped };
}

type Row = [SystemName, SystemSummary];

function summaryColumns(summary: ScenarioSummary, rows: Row[]): Column<Row>[] {
  const system: Column<Row> = { title: 'system', value: ([name]) => name };
  const kb: Column<Row> = { title: 'KB/conn', value: ([, s]) => fmtKb(s.kbPerConnection) };
  const traffic = (title: string, value: (t: TrafficSummary) => string): Column<Row> => ({
    title,
    value: ([, s]) => (s.traffic ? value(s.traffic) : 'n/a'),
  });
  if (summary.scenario.messagesPerRoom === 0) {
    return [
      system,
      { title: 'connections', value: ([, s]) => fmtInt(s.connections) },
      { title: 'connect s', value: ([, s]) => fmtSeconds(s.connectMs) },
      { title: 'RSS MB', value: ([, s]) => s.rssAfterMb.toFixed(1) },
      kb,
      {
        title: 'heap MB',
        value: ([, s]) => (Number.isFinite(s.heapAfterMb) ? s.heapAfterMb.toFixed(1) : 'n/a'),
      },
      { title: 'heap KB/conn', value: ([, s]) => fmtKb(s.heapKbPerConnection) },
    ];
  }
  const rate = summary.scenario.mode.kind === 'rate';
  const split = rows.some(([, s]) => s.traffic?.split);
  return [
    system,
    { title: 'clients', value: ([, s]) => fmtInt(s.receivers) },
    traffic('delivered/s', (t) => fmtInt(t.deliveredPerSecond)),
    traffic('acked/s', (t) => fmtInt(t.ackedPerSecond)),
    traffic('p50 ms', (t) => fmtMs(t.p50)),
    traffic('p99 ms', (t) => fmtMs(t.p99)),
    traffic('max ms', (t) => fmtMs(t.max)),
    {
      title: rate ? 'kept up' : 'complete',
      value: ([, s]) => `${rate ? s.traffic?.keptUpRuns : s.traffic?.completeRuns}/${s.runs}`,
    },
    ...(split
      ? [
          traffic('Δp50 ms', (t) => fmtDelta(t.split?.remoteMinusLocal.p50 ?? Number.NaN)),
          traffic('Δp99 ms', (t) => fmtDelta(t.split?.remoteMinusLocal.p99 ?? Number.NaN)),
        ]
      : []),
    traffic('srv CPU', (t) => fmtCpus(t.serverCpuPercents)),
    traffic('srv µs/dlv', (t) => t.serverMicrosPerDelivery.toFixed(2)),
    traffic('cli CPU', (t) => `${t.clientCpuPercent.toFixed(0)}%`),
    traffic('cli µs/dlv', (t) => t.clientMicrosPerDelivery.toFixed(2)),
    kb,
    traffic('other CPU', (t) => `${t.otherCpuPercent.toFixed(0)}%`),
    ...(rows.some(([, s]) => s.traffic?.relay)
      ? relayColumns(([, s]: Row) => s.traffic, true)
      : []),
  ];
}

export function printSummary(summary: ScenarioSummary, repeat: number): void {
  const rows = Object.entries(summary.systems) as Row[];
  const label = repeat > 1 ? `median of ${repeat} repetitions` : 'single repetition';
  console.log(`\n-- ${summary.scenario.id}: ${label} --`);
  if (rows.length) console.log(table(summaryColumns(summary, rows), rows));
  for (const [system, why] of Object.entries(summary.skipped)) {
    console.log(`${system}: skipped: ${why}`);
  }
}

/** The systems' labels, for the legend. */
export function systemLegend(systems: Iterable<SystemName>): string {
  return [...new Set(systems)]
    .map((name) => `${name.padEnd(22)} ${SYSTEMS[name].label}`)
    .join('\n');
}
