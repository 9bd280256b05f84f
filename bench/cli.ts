import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MESSAGES_PER_SENDER, SCENARIO_NAMES, type ScenarioName } from './scenarios.js';
import { SYSTEM_NAMES, SYSTEMS, type SystemName } from './systems.js';

export interface RoomLayout {
  rooms: number;
  members: number;
}

export interface BenchOptions {
  scenarios: ScenarioName[];
  /** --systems, or null for each scenario's own list. */
  systems: SystemName[] | null;
  repeat: number;
  burstClients: number;
  burstMessages: number;
  rateClients: number;
  ratePerSecond: number;
  rateSeconds: number;
  scaleoutClients: number;
  scaleoutPerSecond: number;
  scaleoutSeconds: number;
  twoprocClients: number;
  twoprocMessages: number;
  roomLayouts: RoomLayout[];
  roomsMessages: number;
  roomsWarmup: number;
  clusterLayout: RoomLayout;
  clusterMessages: number;
  clusterRate: number;
  clusterSeconds: number;
  memoryClients: number;
  memoryRooms: number;
  memoryIdleSeconds: number;
  warmupMessages: number;
  clientProcesses: number;
  connectBatch: number;
  drainTimeoutMs: number;
  keepUpMs: number;
  profile: SystemName | null;
  cpuProf: SystemName | null;
  profileDir: string;
  centrifugoBinary: string | null;
  hardTimeoutMs: number;
}

const systemList = SYSTEM_NAMES.map((name) => `    ${name.padEnd(22)} ${SYSTEMS[name].label}`).join(
  '\n',
);

export const USAGE = `Usage: npm run bench -- [options]

  --scenario a,b               any of ${SCENARIO_NAMES.join(', ')}; "both" = burst,rate;
                               "all" = every one (default: all)
  --systems a,b                run these systems in every scenario that supports them, instead
                               of each scenario's own list (below)
  --repeat N                   repetitions per scenario; medians are reported (default: 1)

  burst     one room, messages back to back. Default systems: chathub, chathub-trpc-client,
            chathub-redis-sqlite, chathub-redis-mongo, centrifugo, centrifugo-2core, ws,
            socketio, trpc-stock. About 2.5 min at the defaults.
  --burst-clients N            room members (default: 1000)
  --burst-messages M           messages (default: 200)

  rate      one room at a steady rate. Default systems: chathub, chathub-trpc-client,
            centrifugo, ws, socketio, trpc-stock. About 2.5 min.
  --rate-clients N             room members (default: 2000)
  --rate R                     messages per second (default: 20)
  --duration S                 seconds of sending (default: 10)

  scaleout  chathub-2proc-mongo: two ROLE=chat processes on Redis + MongoDB, receivers
            alternating, senders on the first; local vs remote latency. About 30 s.
  --scaleout-clients N         room members (default: 1000)
  --scaleout-rate R            messages per second (default: 20)
  --scaleout-duration S        seconds of sending (default: 10)

  twoproc   one room split across two chat processes over Redis (chathub-2proc: one SQLite
            file, only the senders' process writes) against one process on the same Redis +
            SQLite (chathub-redis-sqlite), burst. About 30 s.
  --twoproc-clients N          room members (default: 1000)
  --twoproc-messages M         messages (default: 200)

  rooms     many rooms, one sender per ${MESSAGES_PER_SENDER} messages in every room, all back to back, every
            room the same count. Default systems: chathub, centrifugo, ws, socketio.
            About 3 min per layout.
  --rooms RxM,RxM              layouts: R rooms of M members (default: 1000x10,100x100)
  --rooms-messages M           messages per room (default: 20)
  --rooms-warmup M             warm-up messages per room, here and in cluster (default: 1)

  cluster   many rooms on a Redis Cluster of 3 masters + 3 replicas (started for the run, or
            REDIS_CLUSTER_NODES), one ROLE=chat process per core, receivers alternating over
            them, senders on the first; a burst and a steady rate. Systems: every room's channel
            on one master (…-1shard) vs spread evenly over three (…-3shards); default
            chathub-cluster-1shard, chathub-cluster-3shards (one SQLite file), or the same on
            FerretDB (chathub-cluster-mongo-*). Reports each master's CPU (INFO cpu), its share,
            and the relay ceiling: publishes/s at which the busiest master would use a whole core.
            About 3 min.
  --cluster-rooms RxM          R rooms of M members (default: 300x10)
  --cluster-messages M         burst: messages per room (default: 20)
  --cluster-rate R             rate: messages per second over all rooms (default: 600)
  --cluster-duration S         rate: seconds of sending (default: 10)

  memory    idle, authenticated, subscribed connections on one process; RSS (and, for node
            servers, V8 heap after a full GC) before and after, total and per connection.
            Default systems: chathub, centrifugo, ws. About 2 min.
  --memory-clients N           connections (default: 10000)
  --memory-rooms N             rooms they are spread over (default: 1)
  --memory-idle S              seconds they sit idle before memory is sampled (default: 5)

  --warmup M                   unmeasured warm-up messages before each single-room
                               measurement (default: 20)
  --client-procs 1|2           client processes; receivers are split across them (default: 1)
  --batch N                    connections opened concurrently per client process (default: 100)
  --drain-timeout S            how long to wait for deliveries after the last send (default: 10)
  --keep-up-ms MS              rate scenarios: "kept up" = everything delivered within MS of the
                               last send (default: 1000)
  --profile SYSTEM             CPU-profile that node server (the first process) during the
                               measured phase only, and print its top items
  --cpu-prof SYSTEM            run that system's node servers under node --cpu-prof (whole process)
  --profile-dir DIR            where .cpuprofile files go (default: $TMPDIR/chathub-bench-profiles)
  --centrifugo-bin PATH        the Centrifugo binary (default: .tools/bin/centrifugo, built with
                               go install when missing; a build failure skips its systems)
  --timeout MIN                hard limit for the whole run, in minutes (default: 30 × repeat;
                               every scenario at its defaults takes about 17 min)
  --help

Systems:
${systemList}

Every system's receivers are bare ws clients in a separate process that count deliveries from
frame text the same way (chathub-trpc-client excepted: it uses the stock @trpc/client). Redis, a
Redis Cluster and FerretDB start on free loopback ports when a system needs them, unless
REDIS_URL / REDIS_CLUSTER_NODES / MONGO_URL name servers to use; every run on MongoDB gets its own database, dropped afterwards. KB per
connection = (server RSS once the clients are connected − before) / connections. The bench raises
its open-files limit to what a scenario needs, or says what to raise.
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
  if (!(SYSTEM_NAMES as readonly string[]).includes(value)) {
    throw new Error(`--${name} must be one of ${SYSTEM_NAMES.join(', ')}`);
  }
  return value as SystemName;
}

function scenarios(value: string | undefined): ScenarioName[] {
  const names = (value ?? 'all').split(',').map((name) => name.trim());
  const expanded = names.flatMap((name) =>
    name === 'all' ? [...SCENARIO_NAMES] : name === 'both' ? ['burst', 'rate'] : [name],
  );
  for (const name of expanded) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--scenario must name ${SCENARIO_NAMES.join(', ')}, both or all`);
    }
  }
  return [...new Set(expanded)] as ScenarioName[];
}

function roomLayout(flag: string, layout: string, example: string): RoomLayout {
  const match = /^(\d+)x(\d+)$/.exec(layout.trim());
  const rooms = Number(match?.[1]);
  const members = Number(match?.[2]);
  if (!match || rooms < 1 || members < 1) {
    throw new Error(`--${flag} must be like ${example} (rooms x members)`);
  }
  return { rooms, members };
}

function roomLayouts(value: string | undefined): RoomLayout[] {
  return (value ?? '1000x10,100x100')
    .split(',')
    .map((layout) => roomLayout('rooms', layout, 'layouts like 1000x10,100x100'));
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
      'twoproc-clients': { type: 'string' },
      'twoproc-messages': { type: 'string' },
      rooms: { type: 'string' },
      'rooms-messages': { type: 'string' },
      'rooms-warmup': { type: 'string' },
      'cluster-rooms': { type: 'string' },
      'cluster-messages': { type: 'string' },
      'cluster-rate': { type: 'string' },
      'cluster-duration': { type: 'string' },
      'memory-clients': { type: 'string' },
      'memory-rooms': { type: 'string' },
      'memory-idle': { type: 'string' },
      warmup: { type: 'string' },
      'client-procs': { type: 'string' },
      batch: { type: 'string' },
      'drain-timeout': { type: 'string' },
      'keep-up-ms': { type: 'string' },
      profile: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'profile-dir': { type: 'string' },
      'centrifugo-bin': { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return null;

  const clientProcesses = positiveInt('client-procs', values['client-procs'], 1);
  if (clientProcesses > 2)
    throw new Error('--client-procs must be 1 or 2 (the machine has 2 cores)');
  const repeat = positiveInt('repeat', values.repeat, 1);
  const memoryClients = positiveInt('memory-clients', values['memory-clients'], 10_000);
  const memoryRooms = positiveInt('memory-rooms', values['memory-rooms'], 1);
  if (memoryRooms > memoryClients)
    throw new Error('--memory-rooms must not exceed --memory-clients');

  const profile = system('profile', values.profile);
  const cpuProf = system('cpu-prof', values['cpu-prof']);
  for (const [flag, name] of [
    ['profile', profile],
    ['cpu-prof', cpuProf],
  ] as const) {
    if (name && SYSTEMS[name].server === 'centrifugo') {
      throw new Error(`--${flag} profiles node servers only; ${name} is a Go binary`);
    }
  }

  return {
    scenarios: scenarios(values.scenario),
    systems: values.systems
      ? values.systems.split(',').map((name) => system('systems', name.trim()) as SystemName)
      : null,
    repeat,
    burstClients: positiveInt('burst-clients', values['burst-clients'], 1000),
    burstMessages: positiveInt('burst-messages', values['burst-messages'], 200),
    rateClients: positiveInt('rate-clients', values['rate-clients'], 2000),
    ratePerSecond: positiveInt('rate', values.rate, 20),
    rateSeconds: positiveInt('duration', values.duration, 10),
    scaleoutClients: positiveInt('scaleout-clients', values['scaleout-clients'], 1000),
    scaleoutPerSecond: positiveInt('scaleout-rate', values['scaleout-rate'], 20),
    scaleoutSeconds: positiveInt('scaleout-duration', values['scaleout-duration'], 10),
    twoprocClients: positiveInt('twoproc-clients', values['twoproc-clients'], 1000),
    twoprocMessages: positiveInt('twoproc-messages', values['twoproc-messages'], 200),
    roomLayouts: roomLayouts(values.rooms),
    roomsMessages: positiveInt('rooms-messages', values['rooms-messages'], 20),
    roomsWarmup: positiveInt('rooms-warmup', values['rooms-warmup'], 1),
    clusterLayout: roomLayout('cluster-rooms', values['cluster-rooms'] ?? '300x10', '300x10'),
    clusterMessages: positiveInt('cluster-messages', values['cluster-messages'], 20),
    clusterRate: positiveInt('cluster-rate', values['cluster-rate'], 600),
    clusterSeconds: positiveInt('cluster-duration', values['cluster-duration'], 10),
    memoryClients,
    memoryRooms,
    memoryIdleSeconds: positiveInt('memory-idle', values['memory-idle'], 5),
    warmupMessages: positiveInt('warmup', values.warmup, 20),
    clientProcesses,
    connectBatch: positiveInt('batch', values.batch, 100),
    drainTimeoutMs: positiveInt('drain-timeout', values['drain-timeout'], 10) * 1000,
    keepUpMs: positiveInt('keep-up-ms', values['keep-up-ms'], 1000),
    profile,
    cpuProf,
    profileDir: values['profile-dir'] ?? join(tmpdir(), 'chathub-bench-profiles'),
    centrifugoBinary: values['centrifugo-bin'] ?? null,
    hardTimeoutMs: positiveInt('timeout', values.timeout, 30 * repeat) * 60_000,
  };
}
