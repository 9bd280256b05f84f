/**
 * Room fan-out benchmark: ChatHub vs a bare `ws` broadcast vs Socket.IO 4 vs the same ChatHub
 * router served by tRPC's stock `applyWSSHandler` (trpc-stock), same run, same client layout.
 * This process only orchestrates; for every (scenario, repetition, system) it forks a fresh
 * server process (bench/serverProcess.ts) and 1-2 client processes (bench/clients.ts), all on
 * 127.0.0.1, connects the room members in batches, warms up, then measures with the clock
 * started only after every member is live. Every wait is bounded and a hard timeout kills
 * everything.
 *
 * The scaleout scenario (ChatHub only) runs two chat server processes on a shared Redis and
 * MongoDB-protocol server, started here (see scaleOutBackend) unless REDIS_URL / MONGO_URL are set.
 *
 *   npm run bench -- --help
 */
import { LocalServices } from '../test/helpers/localServices.js';
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
import { type Measurement, measure, type ScaleOutBackend, scenarioOf } from './run.js';

/** Redis and FerretDB this process started, so a hard timeout or a signal can end them too. */
const localServices = new LocalServices();

function killEverything(): void {
  killAllChildren();
  localServices.killNow();
}

/** REDIS_URL / MONGO_URL when set, else a redis-server and a FerretDB of our own. */
async function scaleOutBackend(): Promise<ScaleOutBackend> {
  const redisUrl = process.env.REDIS_URL || (await localServices.redis());
  const mongoUrl = process.env.MONGO_URL || (await localServices.ferretDb());
  const own = [process.env.REDIS_URL ? '' : 'redis-server', process.env.MONGO_URL ? '' : 'FerretDB']
    .filter(Boolean)
    .join(' and ');
  console.log(
    `   shared services: Redis ${redisUrl}, MongoDB ${mongoUrl}${own ? ` (${own} started for this run)` : ''}`,
  );
  return { redisUrl, mongoUrl };
}

/** Rotates the order each repetition, so no system always runs first (or on a warmer machine). */
function orderFor(systems: SystemName[], repetition: number): SystemName[] {
  const shift = repetition % systems.length;
  return [...systems.slice(shift), ...systems.slice(0, shift)];
}

/** The scenario's summary, or null when scaleout could not get its Redis / MongoDB. */
async function runScenario(
  name: ScenarioName,
  options: BenchOptions,
): Promise<ScenarioSummary | null> {
  const scenario = scenarioOf(name, options);
  console.log(`\n${describeScenario(scenario, options)}`);
  // Only ChatHub scales out; the backend lives for the whole scenario, a database per run.
  let systems: SystemName[] = name === 'scaleout' ? ['chathub'] : options.systems;
  let backend: ScaleOutBackend | null = null;
  try {
    if (name === 'scaleout' || systems.includes('chathub-mongo')) {
      try {
        backend = await scaleOutBackend();
      } catch (error) {
        if (name === 'scaleout') {
          console.error(`   scaleout SKIPPED: no Redis / MongoDB to run on: ${String(error)}`);
          return null;
        }
        console.error(`   chathub-mongo SKIPPED: no Redis / MongoDB to run on: ${String(error)}`);
        systems = systems.filter((system) => system !== 'chathub-mongo');
      }
    }
    return await measureAll(name, scenario, systems, backend, options);
  } finally {
    await localServices.stop();
  }
}

async function measureAll(
  name: ScenarioName,
  scenario: ReturnType<typeof scenarioOf>,
  systems: SystemName[],
  backend: ScaleOutBackend | null,
  options: BenchOptions,
): Promise<ScenarioSummary> {
  const measurements: Measurement[] = [];
  for (let repetition = 0; repetition < options.repeat; repetition++) {
    for (const system of orderFor(systems, repetition)) {
      try {
        const onBackend = name === 'scaleout' || system === 'chathub-mongo';
        const measurement = await measure(
          system,
          scenario,
          repetition,
          options,
          onBackend ? backend : null,
        );
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
      : systems.indexOf(a.system) - systems.indexOf(b.system),
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

  console.log(
    `ChatHub fan-out benchmark — node ${process.version}, ${options.systems.join(' / ')},` +
      ` repeat ${options.repeat}`,
  );
  const results: Partial<Record<ScenarioName, ScenarioSummary>> = {};
  for (const name of options.scenarios) {
    if (name === 'scaleout' && !options.systems.includes('chathub')) {
      console.log(
        '\n== scaleout: skipped, it measures ChatHub only and --systems leaves it out ==',
      );
      continue;
    }
    const summary = await runScenario(name, options);
    if (summary) results[name] = summary;
  }
  console.log(LEGEND);
  console.log(
    `\n${JSON.stringify({ bench: 'fanout', node: process.version, repeat: options.repeat, results })}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  killEverything();
  process.exitCode = 1;
});
