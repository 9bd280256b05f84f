/**
 * Room fan-out benchmark: ChatHub beside Centrifugo, a bare `ws` broadcast, Socket.IO 4 and the
 * same ChatHub router served by tRPC's stock adapter, and ChatHub on its scaled-out backends, in
 * one run with the same client layout. This process only orchestrates: for every (scenario,
 * repetition, system) it forks fresh server process(es) (bench/serverProcess.ts) and client
 * process(es) (bench/clients.ts), all on 127.0.0.1, connects the members in batches, samples the
 * servers' memory, warms up, then measures with the clock started only after every member is
 * live. Every wait is bounded and a hard timeout kills everything.
 *
 *   npm run bench -- --help
 */
import { Backends } from './backends.js';
import { centrifugoBinary } from './centrifugoBuild.js';
import { type BenchOptions, parseOptions, USAGE } from './cli.js';
import { killAllChildren } from './ipc.js';
import { ensureOpenFiles } from './openFiles.js';
import { formatProfile } from './profileSummary.js';
import {
  formatGoal,
  formatRatio,
  type GoalResult,
  goalsFor,
  type RatioResult,
  ratiosFor,
} from './ratios.js';
import {
  describeScenario,
  LEGEND,
  printRuns,
  printSummary,
  progressLine,
  type ScenarioSummary,
  summarizeScenario,
  systemLegend,
} from './report.js';
import { type Measurement, measure, type RunContext, StartError } from './run.js';
import {
  SCENARIOS,
  type Scenario,
  type ScenarioName,
  sendersPerRoom,
  systemsFor,
} from './scenarios.js';
import { type SystemName, usesCentrifugo } from './systems.js';

const PROFILE_TOP = 15;

const backends = new Backends();

function killEverything(): void {
  killAllChildren();
  backends.killNow();
}

/** Rotates the order each repetition, so no system always runs first (or on a warmer machine). */
function orderFor(systems: SystemName[], repetition: number): SystemName[] {
  const shift = repetition % systems.length;
  return [...systems.slice(shift), ...systems.slice(0, shift)];
}

interface Planned {
  scenario: Scenario;
  systems: SystemName[];
}

function plan(options: BenchOptions): Planned[] {
  return options.scenarios.flatMap((name: ScenarioName) => {
    const systems = systemsFor(name, options);
    if (systems.length === 0) {
      console.log(`\n== ${name}: skipped, none of --systems runs in it ==`);
      return [];
    }
    return SCENARIOS[name].scenarios(options).map((scenario) => ({ scenario, systems }));
  });
}

function connectionsOf({ scenario }: Planned): number {
  const senders =
    scenario.rooms *
    (sendersPerRoom(scenario.warmupPerRoom) + sendersPerRoom(scenario.messagesPerRoom));
  return scenario.rooms * scenario.membersPerRoom + senders;
}

async function runScenario(
  { scenario, systems }: Planned,
  options: BenchOptions,
  context: RunContext,
  unavailable: Partial<Record<SystemName, string>>,
): Promise<ScenarioSummary> {
  console.log(
    `\n${describeScenario(scenario, SCENARIOS[scenario.name].purpose, systems, options)}`,
  );
  const skipped: Partial<Record<SystemName, string>> = {};
  const failures: Partial<Record<SystemName, string>> = {};
  const measurements: Measurement[] = [];
  for (let repetition = 0; repetition < options.repeat; repetition++) {
    for (const system of orderFor(systems, repetition)) {
      const why = unavailable[system] ?? skipped[system];
      if (why) continue;
      try {
        const measurement = await measure(system, scenario, repetition, options, context);
        measurements.push(measurement);
        console.log(progressLine(measurement));
        if (measurement.profile) console.log(formatProfile(measurement.profile, PROFILE_TOP));
      } catch (error) {
        // Child errors carry their stack; the first line says what went wrong.
        const message =
          (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
        if (error instanceof StartError) skipped[system] = message;
        failures[system] ??= message;
        console.error(`   ${system} rep ${repetition + 1} FAILED: ${message}`);
      }
    }
  }
  measurements.sort((a, b) =>
    a.system === b.system
      ? a.repetition - b.repetition
      : systems.indexOf(a.system) - systems.indexOf(b.system),
  );
  printRuns(measurements);
  for (const system of systems) {
    const why = unavailable[system] ?? skipped[system];
    if (why) skipped[system] = why;
    else if (!measurements.some((m) => m.system === system) && failures[system]) {
      skipped[system] = `every run failed: ${failures[system]}`;
    }
  }
  const summary = summarizeScenario(scenario, systems, measurements, skipped);
  printSummary(summary, options.repeat);
  for (const line of ratiosFor(summary)) console.log(formatRatio(line));
  for (const goal of goalsFor(summary)) console.log(formatGoal(goal));
  return summary;
}

/** Centrifugo's binary, built when missing, or why its systems are skipped. */
async function prepareCentrifugo(
  planned: Planned[],
  options: BenchOptions,
  unavailable: Partial<Record<SystemName, string>>,
): Promise<string | null> {
  const systems = new Set(planned.flatMap((p) => p.systems).filter(usesCentrifugo));
  if (systems.size === 0) return null;
  const binary = await centrifugoBinary(options.centrifugoBinary);
  if ('path' in binary) return binary.path;
  console.log(`   Centrifugo skipped: ${binary.skipped}`);
  for (const system of systems) unavailable[system] = binary.skipped;
  return null;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return;
  }
  const hardStop = setTimeout(() => {
    console.error(
      `\nHard timeout of ${options.hardTimeoutMs / 60_000} min reached: killing everything.`,
    );
    killEverything();
    process.exit(1);
  }, options.hardTimeoutMs);
  hardStop.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killEverything();
      process.exit(130);
    });
  }

  const started = Date.now();
  const planned = plan(options);
  console.log(
    `ChatHub fan-out benchmark — node ${process.version}, scenarios ${options.scenarios.join(', ')},` +
      ` repeat ${options.repeat}`,
  );
  ensureOpenFiles(Math.max(0, ...planned.map(connectionsOf)));
  const unavailable: Partial<Record<SystemName, string>> = {};
  const context: RunContext = {
    backends,
    centrifugoBinary: await prepareCentrifugo(planned, options, unavailable),
  };

  const results: ScenarioSummary[] = [];
  const timings: Record<string, number> = {};
  try {
    for (const each of planned) {
      const scenarioStarted = Date.now();
      results.push(await runScenario(each, options, context, unavailable));
      timings[each.scenario.id] = Math.round((Date.now() - scenarioStarted) / 1000);
    }
  } finally {
    await backends.stop();
  }

  const ratios: RatioResult[] = results.flatMap(ratiosFor);
  const goals: GoalResult[] = results.flatMap(goalsFor);
  console.log("\n== ratios for the issues' goals (same run) ==");
  for (const line of ratios) console.log(formatRatio(line));
  for (const goal of goals) console.log(formatGoal(goal));
  console.log(
    `\nrun time: ${Object.entries(timings)
      .map(([id, seconds]) => `${id} ${seconds} s`)
      .join(', ')}; total ${Math.round((Date.now() - started) / 1000)} s`,
  );
  console.log(LEGEND);
  console.log(`\n${systemLegend(planned.flatMap((p) => p.systems))}`);
  console.log(
    `\n${JSON.stringify({
      bench: 'fanout',
      node: process.version,
      repeat: options.repeat,
      services: backends.describe(),
      timings,
      results,
      ratios,
      goals,
    })}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  killEverything();
  process.exitCode = 1;
});
