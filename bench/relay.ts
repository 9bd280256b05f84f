import type { ClusterCpu } from './redisShards.js';
import { median } from './stats.js';

/**
 * What a Redis Cluster's CPU over a measured phase says about relay capacity. Every chat.send is
 * one SPUBLISH to its room's master, which relays it to each chat process with members in the
 * room (and to its replicas). A cluster saturates when its busiest master has a whole core's
 * work, so the relay ceiling is publishes per core-second of the busiest master: as rooms spread
 * over more masters, each does a smaller share and the ceiling rises.
 *
 * A master also works when no message flows (presence heartbeats of its rooms,
 * discovery, the cluster's own cron and gossip). That rate is sampled over an idle window with
 * the same connections just before the measured phase, and taken out of the relay figures.
 */
export interface RelayFigures {
  /** Per master, in the stable master order: the run's rooms it serves. */
  rooms: number[];
  /** Its CPU over the measured window, and over the idle window, % of one core. */
  masterCpuPercents: number[];
  idleCpuPercents: number[];
  /** Its replicas' CPU over the measured window, % of one core. */
  replicaCpuPercents: number[];
  /** Its part of all masters' relay CPU (measured minus idle). */
  shares: number[];
  /** All masters' relay CPU per publish, µs. */
  microsPerPublish: number;
  /** The busiest master's relay CPU per publish (per publish to any master), µs. */
  busiestMicrosPerPublish: number;
  /** Publishes/s at which the busiest master would spend a whole core relaying, load growing evenly. */
  ceilingPerSecond: number;
}

export function relayFigures(
  measured: ClusterCpu,
  idle: ClusterCpu,
  publishes: number,
): RelayFigures {
  const percent = (micros: number, wallMs: number) =>
    wallMs > 0 ? micros / 10 / wallMs : Number.NaN;
  const relay = measured.shards.map((shard, index) => {
    const quiet = idle.shards[index];
    const idleRate =
      quiet && quiet.master === shard.master && idle.wallMs > 0
        ? quiet.masterCpuMicros / idle.wallMs
        : Number.NaN;
    return Math.max(0, shard.masterCpuMicros - idleRate * measured.wallMs);
  });
  const total = relay.reduce((sum, micros) => sum + micros, 0);
  const busiest = Math.max(...relay);
  const perPublish = (micros: number) => (publishes > 0 ? micros / publishes : Number.NaN);
  return {
    rooms: measured.shards.map((shard) => shard.rooms),
    masterCpuPercents: measured.shards.map((s) => percent(s.masterCpuMicros, measured.wallMs)),
    idleCpuPercents: idle.shards.map((shard) => percent(shard.masterCpuMicros, idle.wallMs)),
    replicaCpuPercents: measured.shards.map((s) => percent(s.replicaCpuMicros, measured.wallMs)),
    shares: relay.map((micros) => (total > 0 ? micros / total : Number.NaN)),
    microsPerPublish: perPublish(total),
    busiestMicrosPerPublish: perPublish(busiest),
    ceilingPerSecond: busiest > 0 ? (publishes / busiest) * 1e6 : Number.NaN,
  };
}

/** Medians over repetitions, each per-master figure by master position (the order is stable). */
export function summarizeRelay(runs: readonly RelayFigures[]): RelayFigures | null {
  if (runs.length === 0) return null;
  const masters = Math.max(...runs.map((run) => run.rooms.length));
  const pick = (value: (run: RelayFigures) => number) => median(runs.map(value));
  const perMaster = (list: (run: RelayFigures) => number[]) =>
    Array.from({ length: masters }, (_, index) => pick((run) => list(run)[index] ?? Number.NaN));
  return {
    rooms: perMaster((run) => run.rooms),
    masterCpuPercents: perMaster((run) => run.masterCpuPercents),
    idleCpuPercents: perMaster((run) => run.idleCpuPercents),
    replicaCpuPercents: perMaster((run) => run.replicaCpuPercents),
    shares: perMaster((run) => run.shares),
    microsPerPublish: pick((run) => run.microsPerPublish),
    busiestMicrosPerPublish: pick((run) => run.busiestMicrosPerPublish),
    ceilingPerSecond: pick((run) => run.ceilingPerSecond),
  };
}
