/**
 * Room fan-out benchmark: ChatHub vs a bare `ws` broadcast vs Socket.IO 4 vs the same ChatHub
 * router served by tRPC's stock `applyWSSHandler` (trpc-stock), same run, same client layout.
 * This process only orchestrates; for every (scenario, repetition, system) it forks a fresh
 * server process (bench/serverProcess.ts) and 1-2 client processes (bench/clients.ts), all on
 * 127.0.0.1, connects the room members in batches, warms up, then measures with the clock
 * started only after every member is live. Every wait is bounded and a hard timeout kills
 * everything.
 *
 *   npm run bench -- --help
 */
import { type BenchOptions, parseOptions, USAGE } from './cli.js';
import { killAllChildren } from './ipc.js';
import type { ScenarioName, SystemName } from './protocol.js';
import {
  describeScenario,
  LEGEND,
  printRuns,
  printSummary,
  progressLine,
  type ScenarioSummary,
  summarizeScenario,
} from './report.js';
import { type Measurement, measure, scenarioOf } from './run.js';

/** Rotates the order each repetition, so no system always runs first (or on a warmer machine). */
function orderFor(systems: SystemName[], repetition: number): SystemName[] {
  const shift = repetition % systems.length;
  return [...systems.slice(shift), ...systems.slice(0, shift)];
}

async function runScenario(name: ScenarioName, options: BenchOptions): Promise<ScenarioSummary> {
  const scenario = scenarioOf(name, options);
  console.log(`\n${describeScenario(scenario, options)}`);
  const measurements: Measurement[] = [];
  for (let repetition = 0; repetition < options.repeat; repetition++) {
    for (const system of orderFor(options.systems, repetition)) {
      try {
        const measurement = await measure(system, scenario, repetition, options);
        measurements.push(measurement);
        console.log(progressLine(measurement));
      } catch (error) {
        console.error(`   ${system} rep ${repetition + 1} FAILED: ${String(error)}`);
      }
    }
  }
  measurements.sort((a, b) =>
    a.system === b.system
      ? a.repetition - b.repetition
      : options.systems.indexOf(a.system) - options.systems.indexOf(b.system),
  );
  printRuns(measurements);
  const summary = summarizeScenario(measurements);
  printSummary(name, summary, options.repeat);
  return summary;
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
    killAllChildren();
    process.exit(1);
  }, options.hardTimeoutMs);
  hardStop.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }

  console.log(
    `ChatHub fan-out benchmark — node ${process.version}, ${options.systems.join(' / ')},` +
      ` repeat ${options.repeat}`,
  );
  const results: Partial<Record<ScenarioName, ScenarioSummary>> = {};
  for (const name of options.scenarios) results[name] = await runScenario(name, options);
  console.log(LEGEND);
  console.log(
    `\n${JSON.stringify({ bench: 'fanout', node: process.version, repeat: options.repeat, results })}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  killAllChildren();
  process.exitCode = 1;
});
