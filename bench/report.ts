import type { BenchOptions } from './cli.js';
import type { ScenarioName, SystemName } from './protocol.js';
import { MESSAGES_PER_SENDER, type Measurement, SCALE_OUT_SERVERS, type Scenario } from './run.js';
import { median } from './stats.js';

/** The per-system figure a scenario is summarised by: medians over repetitions. */
export interface SystemSummary {
  runs: number;
  clients: number;
  messages: number;
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  drainMs: number;
  /** Repetitions in which every delivery arrived / the system kept up. */
  completeRuns: number;
  keptUpRuns: number;
  serverCpuPercent: number;
  serverMicrosPerDelivery: number;
  clientCpuPercent: number;
  clientMicrosPerDelivery: number;
  /** Scaleout scenario only. */
  scaleOut?: ScaleOutSummary;
}

/** Local = receiver on the senders' server, remote = on the other one. Medians over runs. */
export interface ScaleOutSummary {
  local: { delivered: number; p50: number; p99: number; max: number };
  remote: { delivered: number; p50: number; p99: number; max: number };
  /** Median over runs of (remote − local) within the run, ms. */
  remoteMinusLocal: { p50: number; p99: number };
  /** CPU of each chat server, % of one core (server 1 holds the senders). */
  serverCpuPercents: number[];
  perRun: {
    deliveredPerSecond: number;
    local: { p50: number; p99: number };
    remote: { p50: number; p99: number };
  }[];
}

export interface Ratios {
  /** ChatHub ÷ other: above 1 means ChatHub delivered more per second. */
  deliveredPerSecond: number;
  /** ChatHub ÷ other: above 1 means ChatHub was slower. */
  p50: number;
  p99: number;
  serverMicrosPerDelivery: number;
}

export interface ScenarioSummary {
  systems: Partial<Record<SystemName, SystemSummary>>;
  chathubVs: Partial<Record<Exclude<SystemName, 'chathub'>, Ratios>>;
}

const fmtInt = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
const fmtMs = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const fmtRatio = (value: number) => (Number.isFinite(value) ? `×${value.toFixed(2)}` : 'n/a');

interface Column<T> {
  title: string;
  value(row: T): string;
}

function table<T>(columns: Column<T>[], rows: T[]): string {
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

export function describeScenario(scenario: Scenario, options: BenchOptions): string {
  const senders = Math.ceil(scenario.messages / MESSAGES_PER_SENDER);
  const how =
    scenario.mode.kind === 'burst'
      ? `${scenario.messages} messages sent back to back`
      : `${scenario.mode.perSecond} msg/s for ${scenario.sendMs / 1000} s (${scenario.messages} messages)`;
  if (scenario.name === 'scaleout') {
    return [
      `== scaleout: ChatHub on ${SCALE_OUT_SERVERS} chat server processes sharing Redis and MongoDB,` +
        ` ${scenario.clients} clients in one room, ${how} ==`,
      `   ${(scenario.clients * scenario.messages).toLocaleString('en-US')} deliveries expected per run;` +
        ` receivers alternate between the servers; all ${senders} sender connections are on server 1` +
        ` (chat.send mutations, stored in MongoDB, published on Redis, ≤${MESSAGES_PER_SENDER} messages each)`,
      `   local = receiver on server 1 (the senders'), remote = receiver on server 2;` +
        ` ${options.clientProcesses} client process(es), each holding both kinds;` +
        ` warm-up of ${options.warmupMessages} messages before each measurement`,
    ].join('\n');
  }
  return [
    `== ${scenario.name}: ${scenario.clients} clients in one room, ${how} ==`,
    `   ${(scenario.clients * scenario.messages).toLocaleString('en-US')} deliveries expected per run;` +
      ` senders: ${senders} sender connections round-robin, ≤${MESSAGES_PER_SENDER} messages each` +
      ' (ChatHub and trpc-stock: chat.send mutations, stored in SQLite before fan-out; under its 10/s burst-20 per-user limit)',
    `   ${options.clientProcesses} client process(es); warm-up of ${options.warmupMessages} messages before each measurement`,
  ].join('\n');
}

const isRate = (scenario: ScenarioName) => scenario === 'rate' || scenario === 'scaleout';
const fmtDelta = (value: number) =>
  Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(1)}` : 'n/a';
const fmtCpus = (values: number[]) => values.map((value) => `${value.toFixed(0)}%`).join(' / ');

const scaleOutRunColumns: Column<Measurement>[] = [
  { title: 'system', value: (m) => m.system },
  { title: 'rep', value: (m) => String(m.repetition + 1) },
  { title: 'clients', value: (m) => fmtInt(m.clients) },
  { title: 'messages', value: (m) => fmtInt(m.messages) },
  { title: 'delivered', value: (m) => `${fmtInt(m.delivered)}/${fmtInt(m.expected)}` },
  { title: 'delivered/s', value: (m) => fmtInt(m.deliveredPerSecond) },
  { title: 'p50 ms', value: (m) => fmtMs(m.p50) },
  { title: 'p99 ms', value: (m) => fmtMs(m.p99) },
  { title: 'local p50', value: (m) => fmtMs(m.split?.local.p50 ?? Number.NaN) },
  { title: 'local p99', value: (m) => fmtMs(m.split?.local.p99 ?? Number.NaN) },
  { title: 'remote p50', value: (m) => fmtMs(m.split?.remote.p50 ?? Number.NaN) },
  { title: 'remote p99', value: (m) => fmtMs(m.split?.remote.p99 ?? Number.NaN) },
  {
    title: 'Δp50',
    value: (m) =>
      fmtDelta((m.split?.remote.p50 ?? Number.NaN) - (m.split?.local.p50 ?? Number.NaN)),
  },
  {
    title: 'Δp99',
    value: (m) =>
      fmtDelta((m.split?.remote.p99 ?? Number.NaN) - (m.split?.local.p99 ?? Number.NaN)),
  },
  { title: 'kept up', value: (m) => (m.keptUp ? 'yes' : `NO (drain ${fmtMs(m.drainMs)} ms)`) },
  { title: 'srv1 / srv2 CPU', value: (m) => fmtCpus(m.serverCpuPercents) },
  { title: 'srv µs/dlv', value: (m) => m.serverMicrosPerDelivery.toFixed(2) },
  { title: 'cli CPU', value: (m) => `${m.clientCpuPercent.toFixed(0)}%` },
  { title: 'acked ms', value: (m) => fmtMs(m.sendMs) },
  { title: 'connect s', value: (m) => (m.connectMs / 1000).toFixed(1) },
];

const runColumns = (scenario: ScenarioName): Column<Measurement>[] => [
  { title: 'system', value: (m) => m.system },
  { title: 'rep', value: (m) => String(m.repetition + 1) },
  { title: 'clients', value: (m) => fmtInt(m.clients) },
  { title: 'messages', value: (m) => fmtInt(m.messages) },
  { title: 'delivered', value: (m) => `${fmtInt(m.delivered)}/${fmtInt(m.expected)}` },
  { title: 'delivered/s', value: (m) => fmtInt(m.deliveredPerSecond) },
  { title: 'p50 ms', value: (m) => fmtMs(m.p50) },
  { title: 'p99 ms', value: (m) => fmtMs(m.p99) },
  { title: 'max ms', value: (m) => fmtMs(m.max) },
  isRate(scenario)
    ? { title: 'kept up', value: (m) => (m.keptUp ? 'yes' : `NO (drain ${fmtMs(m.drainMs)} ms)`) }
    : { title: 'complete', value: (m) => (m.complete ? 'yes' : 'NO') },
  { title: 'srv CPU', value: (m) => `${m.serverCpuPercent.toFixed(0)}%` },
  { title: 'srv µs/dlv', value: (m) => m.serverMicrosPerDelivery.toFixed(2) },
  { title: 'cli CPU', value: (m) => `${m.clientCpuPercent.toFixed(0)}%` },
  { title: 'cli µs/dlv', value: (m) => m.clientMicrosPerDelivery.toFixed(2) },
  { title: 'acked ms', value: (m) => fmtMs(m.sendMs) },
  { title: 'connect s', value: (m) => (m.connectMs / 1000).toFixed(1) },
];

function status(m: Measurement): string {
  if (isRate(m.scenario)) return m.keptUp ? 'kept up' : 'did NOT keep up';
  return m.complete ? 'complete' : 'INCOMPLETE';
}

/** One line while the benchmark runs. */
export function progressLine(m: Measurement): string {
  return (
    `   ${m.system.padEnd(10)} rep ${m.repetition + 1}: ${fmtInt(m.deliveredPerSecond)} delivered/s,` +
    ` p50 ${fmtMs(m.p50)} ms, p99 ${fmtMs(m.p99)} ms, ${status(m)}` +
    (m.split
      ? `; local p50/p99 ${fmtMs(m.split.local.p50)}/${fmtMs(m.split.local.p99)} ms,` +
        ` remote ${fmtMs(m.split.remote.p50)}/${fmtMs(m.split.remote.p99)} ms`
      : '')
  );
}

export const LEGEND = `
delivered/s = all deliveries / (first send → last delivery to the last client).
p50/p99/max = send → receive latency per delivery, from the timestamp in the message body.
srv/cli CPU = CPU of the server / client process(es) over the measured window, in % of one core.
srv µs/dlv  = server CPU time per delivery: the server's own cost, whatever the clients' speed.
cli µs/dlv  = client CPU time per delivery (stock client library of each system).
acked ms    = first send → last send acknowledged (ChatHub acks a send after its fan-out;
              trpc-stock once the event is queued for every subscriber's iterator).
kept up     = rate scenario: every delivery arrived, the last within --keep-up-ms of the last send.
scaleout    = local: receiver on the senders' chat server; remote: on the other one. With Redis,
              local deliveries also go through Redis pub/sub (every server subscribes to the
              room, its own too), so Δ = remote − local (same run, same client process) is what
              the hop to another server process adds on top; srv CPU figures are both servers'.`;

/** Every repetition of a scenario, then anything that went wrong in them. */
export function printRuns(measurements: Measurement[]): void {
  const [first] = measurements;
  if (!first) return;
  console.log(`\n-- ${first.scenario}: every run --`);
  const columns = first.scenario === 'scaleout' ? scaleOutRunColumns : runColumns(first.scenario);
  console.log(table(columns, measurements));
  for (const m of measurements) {
    const notes = [
      m.sendFailed ? `${m.sendFailed} sends failed` : '',
      m.receiverErrors ? `${m.receiverErrors} receiver errors` : '',
      m.firstError ? `first error: ${m.firstError}` : '',
      m.profile ? `CPU profile of the measured phase: ${m.profile}` : '',
    ].filter(Boolean);
    if (notes.length) console.log(`   ${m.system} rep ${m.repetition + 1}: ${notes.join('; ')}`);
  }
}

export function summarizeScenario(measurements: Measurement[]): ScenarioSummary {
  const systems: Partial<Record<SystemName, SystemSummary>> = {};
  for (const measurement of measurements) {
    if (systems[measurement.system]) continue;
    const runs = measurements.filter((m) => m.system === measurement.system);
    const pick = (key: keyof Measurement & keyof SystemSummary) =>
      median(runs.map((m) => Number(m[key])));
    systems[measurement.system] = {
      runs: runs.length,
      clients: measurement.clients,
      messages: measurement.messages,
      deliveredPerSecond: pick('deliveredPerSecond'),
      p50: pick('p50'),
      p99: pick('p99'),
      max: pick('max'),
      drainMs: pick('drainMs'),
      completeRuns: runs.filter((m) => m.complete).length,
      keptUpRuns: runs.filter((m) => m.keptUp).length,
      serverCpuPercent: pick('serverCpuPercent'),
      serverMicrosPerDelivery: pick('serverMicrosPerDelivery'),
      clientCpuPercent: pick('clientCpuPercent'),
      clientMicrosPerDelivery: pick('clientMicrosPerDelivery'),
      ...(measurement.split ? { scaleOut: summarizeScaleOut(runs) } : {}),
    };
  }
  const chathubVs: ScenarioSummary['chathubVs'] = {};
  const chathub = systems.chathub;
  for (const other of ['ws', 'socketio', 'trpc-stock'] as const) {
    const baseline = systems[other];
    if (!chathub || !baseline) continue;
    chathubVs[other] = {
      deliveredPerSecond: chathub.deliveredPerSecond / baseline.deliveredPerSecond,
      p50: chathub.p50 / baseline.p50,
      p99: chathub.p99 / baseline.p99,
      serverMicrosPerDelivery: chathub.serverMicrosPerDelivery / baseline.serverMicrosPerDelivery,
    };
  }
  return { systems, chathubVs };
}

function summarizeScaleOut(runs: Measurement[]): ScaleOutSummary {
  const split = runs.flatMap((m) => (m.split ? [{ ...m.split, m }] : []));
  const side = (which: 'local' | 'remote') => ({
    delivered: median(split.map((s) => s[which].delivered)),
    p50: median(split.map((s) => s[which].p50)),
    p99: median(split.map((s) => s[which].p99)),
    max: median(split.map((s) => s[which].max)),
  });
  const servers = Math.max(0, ...runs.map((m) => m.serverCpuPercents.length));
  return {
    local: side('local'),
    remote: side('remote'),
    remoteMinusLocal: {
      p50: median(split.map((s) => s.remote.p50 - s.local.p50)),
      p99: median(split.map((s) => s.remote.p99 - s.local.p99)),
    },
    serverCpuPercents: Array.from({ length: servers }, (_, index) =>
      median(runs.map((m) => m.serverCpuPercents[index] ?? Number.NaN)),
    ),
    perRun: split.map((s) => ({
      deliveredPerSecond: s.m.deliveredPerSecond,
      local: { p50: s.local.p50, p99: s.local.p99 },
      remote: { p50: s.remote.p50, p99: s.remote.p99 },
    })),
  };
}

function printScaleOutSummary(summary: ScenarioSummary, label: string): void {
  const rows = Object.entries(summary.systems).flatMap(([name, s]) =>
    s.scaleOut ? [{ name, s, o: s.scaleOut }] : [],
  );
  console.log(`\n-- scaleout: ${label} --`);
  console.log(
    table<(typeof rows)[number]>(
      [
        { title: 'system', value: (r) => `${r.name} ×${SCALE_OUT_SERVERS}` },
        { title: 'clients', value: (r) => fmtInt(r.s.clients) },
        { title: 'messages', value: (r) => fmtInt(r.s.messages) },
        { title: 'delivered/s', value: (r) => fmtInt(r.s.deliveredPerSecond) },
        { title: 'local p50', value: (r) => fmtMs(r.o.local.p50) },
        { title: 'local p99', value: (r) => fmtMs(r.o.local.p99) },
        { title: 'remote p50', value: (r) => fmtMs(r.o.remote.p50) },
        { title: 'remote p99', value: (r) => fmtMs(r.o.remote.p99) },
        { title: 'Δp50 ms', value: (r) => fmtDelta(r.o.remoteMinusLocal.p50) },
        { title: 'Δp99 ms', value: (r) => fmtDelta(r.o.remoteMinusLocal.p99) },
        { title: 'all p50', value: (r) => fmtMs(r.s.p50) },
        { title: 'all p99', value: (r) => fmtMs(r.s.p99) },
        { title: 'kept up', value: (r) => `${r.s.keptUpRuns}/${r.s.runs}` },
        { title: 'srv1 / srv2 CPU', value: (r) => fmtCpus(r.o.serverCpuPercents) },
        { title: 'srv µs/dlv', value: (r) => r.s.serverMicrosPerDelivery.toFixed(2) },
        { title: 'cli CPU', value: (r) => `${r.s.clientCpuPercent.toFixed(0)}%` },
      ],
      rows,
    ),
  );
  for (const { name, o } of rows) {
    console.log(
      `${name}: crossing servers adds ${fmtDelta(o.remoteMinusLocal.p50)} ms at p50 and` +
        ` ${fmtDelta(o.remoteMinusLocal.p99)} ms at p99 (remote − local, median over runs)`,
    );
  }
}

export function printSummary(
  scenario: ScenarioName,
  summary: ScenarioSummary,
  repeat: number,
): void {
  const rows = Object.entries(summary.systems) as [SystemName, SystemSummary][];
  const label = repeat > 1 ? `median of ${repeat} repetitions` : 'single repetition';
  if (scenario === 'scaleout') {
    printScaleOutSummary(summary, label);
    return;
  }
  console.log(`\n-- ${scenario}: ${label} --`);
  console.log(
    table<[SystemName, SystemSummary]>(
      [
        { title: 'system', value: ([name]) => name },
        { title: 'clients', value: ([, s]) => fmtInt(s.clients) },
        { title: 'messages', value: ([, s]) => fmtInt(s.messages) },
        { title: 'delivered/s', value: ([, s]) => fmtInt(s.deliveredPerSecond) },
        { title: 'p50 ms', value: ([, s]) => fmtMs(s.p50) },
        { title: 'p99 ms', value: ([, s]) => fmtMs(s.p99) },
        { title: 'max ms', value: ([, s]) => fmtMs(s.max) },
        isRate(scenario)
          ? { title: 'kept up', value: ([, s]) => `${s.keptUpRuns}/${s.runs}` }
          : { title: 'complete', value: ([, s]) => `${s.completeRuns}/${s.runs}` },
        { title: 'srv CPU', value: ([, s]) => `${s.serverCpuPercent.toFixed(0)}%` },
        { title: 'srv µs/dlv', value: ([, s]) => s.serverMicrosPerDelivery.toFixed(2) },
        { title: 'cli CPU', value: ([, s]) => `${s.clientCpuPercent.toFixed(0)}%` },
        { title: 'cli µs/dlv', value: ([, s]) => s.clientMicrosPerDelivery.toFixed(2) },
      ],
      rows,
    ),
  );
  for (const [other, ratios] of Object.entries(summary.chathubVs)) {
    console.log(
      `ChatHub vs ${other.padEnd(10)}  delivered/s ${fmtRatio(ratios.deliveredPerSecond)}` +
        `   p50 ${fmtRatio(ratios.p50)}   p99 ${fmtRatio(ratios.p99)}` +
        `   server CPU per delivery ${fmtRatio(ratios.serverMicrosPerDelivery)}`,
    );
  }
}
