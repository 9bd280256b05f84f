import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_SYSTEMS,
  SCENARIOS,
  type ScenarioName,
  SYSTEMS,
  type SystemName,
} from './protocol.js';

export interface BenchOptions {
  scenarios: ScenarioName[];
  systems: SystemName[];
  repeat: number;
  burstClients: number;
  burstMessages: number;
  rateClients: number;
  ratePerSecond: number;
  rateSeconds: number;
  scaleoutClients: number;
  scaleoutPerSecond: number;
  scaleoutSeconds: number;
  warmupMessages: number;
  clientProcesses: number;
  connectBatch: number;
  drainTimeoutMs: number;
  keepUpMs: number;
  profile: SystemName | null;
  cpuProf: SystemName | null;
  profileDir: string;
  hardTimeoutMs: number;
}

export const USAGE = `Usage: npm run bench -- [options]

  --scenario NAME              burst, rate, scaleout, both (= burst and rate) or all
                               (= burst, rate and scaleout) (default: all)
  --systems a,b,c              subset of chathub,ws,socketio,trpc-stock,chathub-mongo
                               (default: the first four); chathub-mongo is ChatHub as one
                               process on Redis and MongoDB (REDIS_URL, MONGO_URL, a database
                               per run), started as for scaleout below
  --repeat N                   repetitions per scenario; medians are reported (default: 1)
  --burst-clients N            room members in the burst scenario (default: 1000)
  --burst-messages M           messages sent back to back in the burst scenario (default: 200)
  --rate-clients N             room members in the rate scenario (default: 2000)
  --rate R                     messages per second in the rate scenario (default: 20)
  --duration S                 seconds of sending in the rate scenario (default: 10)
  --scaleout-clients N         room members in the scaleout scenario, alternating between
                               the two chat servers (default: 1000)
  --scaleout-rate R            messages per second in the scaleout scenario (default: 20)
  --scaleout-duration S        seconds of sending in the scaleout scenario (default: 10);
                               messages = rate × duration
  --warmup M                   unmeasured warm-up messages before each measurement (default: 20)
  --client-procs 1|2           client processes; receivers are split across them (default: 1)
  --batch N                    connections opened concurrently per client process (default: 100)
  --drain-timeout S            how long to wait for deliveries after the last send (default: 10)
  --keep-up-ms MS              rate scenario: "kept up" = everything delivered within MS of the
                               last send (default: 1000)
  --profile SYSTEM             CPU-profile that system's server during the measured phase only
  --cpu-prof SYSTEM            run that system's server under node --cpu-prof (whole process)
  --profile-dir DIR            where .cpuprofile files go (default: $TMPDIR/chathub-bench-profiles)
  --timeout MIN                hard limit for the whole run, in minutes (default: 25)
  --help

Scenario scaleout (part of the default run; about 25 s per repetition at the defaults):
ChatHub only, as two ROLE=chat server processes sharing Redis (pub/sub, presence, discovery)
and a MongoDB-protocol store (ROLE=chat, REDIS_URL, MONGO_URL). A redis-server and a FerretDB
(.tools/bin/ferretdb, see scripts/provision.sh) start for the run on free loopback ports, unless
REDIS_URL / MONGO_URL name servers to use; every run gets its own MongoDB database, dropped
afterwards. Receivers alternate between the servers, every sender is on server 1, so each
delivery is "local" (receiver on the sender's server) or "remote" (on the other server); both
are reported, and remote − local is what crossing servers adds. --systems does not apply
(leaving chathub out skips it). If Redis or FerretDB cannot be had, the scenario is reported
as skipped and the others still run; --scenario both leaves it out.
`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`--${name} must be a positive integer`);
  return number;
}

function system(name: string, value: string | undefined): SystemName | null {
  if (value === undefined) return null;
  if (!(SYSTEMS as readonly string[]).includes(value)) {
    throw new Error(`--${name} must be one of ${SYSTEMS.join(', ')}`);
  }
  return value as SystemName;
}

export function parseOptions(argv: string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      systems: { type: 'string' },
      repeat: { type: 'string' },
      'burst-clients': { type: 'string' },
      'burst-messages': { type: 'string' },
      'rate-clients': { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'scaleout-clients': { type: 'string' },
      'scaleout-rate': { type: 'string' },
      'scaleout-duration': { type: 'string' },
      warmup: { type: 'string' },
      'client-procs': { type: 'string' },
      batch: { type: 'string' },
      'drain-timeout': { type: 'string' },
      'keep-up-ms': { type: 'string' },
      profile: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'profile-dir': { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return null;

  const scenario = values.scenario ?? 'all';
  if (
    scenario !== 'both' &&
    scenario !== 'all' &&
    !(SCENARIOS as readonly string[]).includes(scenario)
  ) {
    throw new Error('--scenario must be burst, rate, both, scaleout or all');
  }
  const systems = (values.systems ?? DEFAULT_SYSTEMS.join(','))
    .split(',')
    .map((name) => system('systems', name.trim()) as SystemName);
  const clientProcesses = positiveInt('client-procs', values['client-procs'], 1);
  if (clientProcesses > 2)
    throw new Error('--client-procs must be 1 or 2 (the machine has 2 cores)');

  return {
    scenarios:
      scenario === 'both'
        ? ['burst', 'rate']
        : scenario === 'all'
          ? [...SCENARIOS]
          : [scenario as ScenarioName],
    systems,
    repeat: positiveInt('repeat', values.repeat, 1),
    burstClients: positiveInt('burst-clients', values['burst-clients'], 1000),
    burstMessages: positiveInt('burst-messages', values['burst-messages'], 200),
    rateClients: positiveInt('rate-clients', values['rate-clients'], 2000),
    ratePerSecond: positiveInt('rate', values.rate, 20),
    rateSeconds: positiveInt('duration', values.duration, 10),
    scaleoutClients: positiveInt('scaleout-clients', values['scaleout-clients'], 1000),
    scaleoutPerSecond: positiveInt('scaleout-rate', values['scaleout-rate'], 20),
    scaleoutSeconds: positiveInt('scaleout-duration', values['scaleout-duration'], 10),
    warmupMessages: positiveInt('warmup', values.warmup, 20),
    clientProcesses,
    connectBatch: positiveInt('batch', values.batch, 100),
    drainTimeoutMs: positiveInt('drain-timeout', values['drain-timeout'], 10) * 1000,
    keepUpMs: positiveInt('keep-up-ms', values['keep-up-ms'], 1000),
    profile: system('profile', values.profile),
    cpuProf: system('cpu-prof', values['cpu-prof']),
    profileDir: values['profile-dir'] ?? join(tmpdir(), 'chathub-bench-profiles'),
    hardTimeoutMs: positiveInt('timeout', values.timeout, 25) * 60_000,
  };
}
