import type { BenchOptions } from './cli.js';
import type { ScenarioName, SystemName } from './protocol.js';
import { MESSAGES_PER_SENDER, type Measurement, type Scenario } from './run.js';
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
      : `${scenario.mode.perSecond} msg/s for ${options.rateSeconds} s (${scenario.messages} messages)`;
  return [
    `== ${scenario.name}: ${scenario.clients} clients in one room, ${how} ==`,
    `   ${(scenario.clients * scenario.messages).toLocaleString('en-US')} deliveries expected per run;` +
      ` senders: ${senders} sender connections round-robin, ≤${MESSAGES_PER_SENDER} messages each` +
      ' (ChatHub and trpc-stock: chat.send mutations, stored in SQLite before fan-out; under its 10/s burst-20 per-user limit)',
    `   ${options.clientProcesses} client process(es); warm-up of ${options.warmupMessages} messages before each measurement`,
  ].join('\n');
}

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
  scenario === 'rate'
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
  if (m.scenario === 'rate') return m.keptUp ? 'kept up' : 'did NOT keep up';
  return m.complete ? 'complete' : 'INCOMPLETE';
}

/** One line while the benchmark runs. */
export function progressLine(m: Measurement): string {
  return (
    `   ${m.system.padEnd(10)} rep ${m.repetition + 1}: ${fmtInt(m.deliveredPerSecond)} delivered/s,` +
    ` p50 ${fmtMs(m.p50)} ms, p99 ${fmtMs(m.p99)} ms, ${status(m)}`
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
kept up     = rate scenario: every delivery arrived, the last within --keep-up-ms of the last send.`;

/** Every repetition of a scenario, then anything that went wrong in them. */
export function printRuns(measurements: Measurement[]): void {
  const [first] = measurements;
  if (!first) return;
  console.log(`\n-- ${first.scenario}: every run --`);
  console.log(table(runColumns(first.scenario), measurements));
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

export function printSummary(
  scenario: ScenarioName,
  summary: ScenarioSummary,
  repeat: number,
): void {
  const rows = Object.entries(summary.systems) as [SystemName, SystemSummary][];
  const label = repeat > 1 ? `median of ${repeat} repetitions` : 'single repetition';
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
        scenario === 'rate'
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
