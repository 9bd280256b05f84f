import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../bench/cli.js';
import { channelOf, roomsOnMasters } from '../../bench/placement.js';
import { infoCpuMicros, shardCpu } from '../../bench/redisShards.js';
import { relayFigures, summarizeRelay } from '../../bench/relay.js';
import { slotOf } from '../../src/redis/slot.js';
import type { ClusterNodeView } from '../helpers/redisCluster.js';

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** The slot split `redis-cli --cluster create` makes for three masters, listed out of order. */
const MASTERS = [
  { address: '127.0.0.1:7002', slots: range(10_923, 16_383) },
  { address: '127.0.0.1:7000', slots: range(0, 5_460) },
  { address: '127.0.0.1:7001', slots: range(5_461, 10_922) },
];

/** Which of MASTERS (by address) serves a room's channel. */
function masterOf(roomId: string): string {
  const slot = slotOf(channelOf(roomId));
  return MASTERS.find((master) => master.slots.includes(slot))?.address ?? 'none';
}

const countBy = (values: string[]) =>
  values.reduce<Record<string, number>>((counts, value) => {
    counts[value] = (counts[value] ?? 0) + 1;
    return counts;
  }, {});

describe('bench cluster: rooms placed by the master that serves their channel', () => {
  it('puts every room on the master with the lowest slots when asked for one shard', () => {
    const rooms = roomsOnMasters(MASTERS, 1, 300);
    expect(rooms).toHaveLength(300);
    expect(new Set(rooms).size).toBe(300);
    expect(countBy(rooms.map(masterOf))).toEqual({ '127.0.0.1:7000': 300 });
  });

  it('spreads rooms evenly over three masters, interleaved so round robin alternates masters', () => {
    const rooms = roomsOnMasters(MASTERS, 3, 300);
    expect(new Set(rooms).size).toBe(300);
    expect(countBy(rooms.map(masterOf))).toEqual({
      '127.0.0.1:7000': 100,
      '127.0.0.1:7001': 100,
      '127.0.0.1:7002': 100,
    });
    expect(rooms.slice(0, 6).map(masterOf)).toEqual([
      '127.0.0.1:7000',
      '127.0.0.1:7001',
      '127.0.0.1:7002',
      '127.0.0.1:7000',
      '127.0.0.1:7001',
      '127.0.0.1:7002',
    ]);
  });

  it('gives the remainder to the first masters and uses only the masters asked for', () => {
    expect(countBy(roomsOnMasters(MASTERS, 3, 7).map(masterOf))).toEqual({
      '127.0.0.1:7000': 3,
      '127.0.0.1:7001': 2,
      '127.0.0.1:7002': 2,
    });
    expect(countBy(roomsOnMasters(MASTERS, 2, 5).map(masterOf))).toEqual({
      '127.0.0.1:7000': 3,
      '127.0.0.1:7001': 2,
    });
  });

  it('refuses more shards than masters serving slots', () => {
    const withEmpty = [...MASTERS, { address: '127.0.0.1:7003', slots: [] }];
    expect(() => roomsOnMasters(withEmpty, 4, 10)).toThrow(/3 serving slots/);
    expect(() => roomsOnMasters(MASTERS, 0, 10)).toThrow(/0 master/);
  });

  it('gives up with a clear error when a master serves too few slots to find the rooms', () => {
    const tiny = [{ address: '127.0.0.1:7000', slots: [slotOf(channelOf('bench-0'))] }];
    expect(roomsOnMasters(tiny, 1, 1)).toEqual(['bench-0']);
    expect(() => roomsOnMasters(tiny, 1, 2)).toThrow(/found only 1 of 2 rooms/);
  });
});

describe('bench cluster: Redis CPU per master', () => {
  const info = (sys: string, user: string) =>
    `# CPU\r\nused_cpu_sys:${sys}\r\nused_cpu_user:${user}\r\nused_cpu_sys_children:9.000000\r\n`;

  it('reads a node’s own CPU time from INFO cpu, children excluded', () => {
    expect(infoCpuMicros(info('1.250000', '0.500001'))).toBe(1_750_001);
    expect(() => infoCpuMicros('# CPU\r\nused_cpu_sys:1.0\r\n')).toThrow(/used_cpu_user/);
  });

  const node = (
    id: string,
    port: number,
    role: 'master' | 'replica',
    slots: number[],
    masterId: string | null = null,
  ): ClusterNodeView => ({
    id,
    address: `127.0.0.1:${port}`,
    port,
    role,
    masterId,
    failed: false,
    slots,
  });

  const nodes = [
    node('b', 7001, 'master', range(8_192, 16_383)),
    node('a', 7000, 'master', range(0, 8_191)),
    node('ra', 7010, 'replica', [], 'a'),
    node('rb', 7011, 'replica', [], 'b'),
  ];
  const snapshot = (micros: Record<number, number>, at: number) => ({
    byNode: new Map(Object.entries(micros).map(([port, cpu]) => [`127.0.0.1:${port}`, cpu])),
    at,
  });

  it('charges each master and its replicas with what they spent, masters in slot order', () => {
    const rooms = roomsOnMasters(nodes, 2, 5);
    const cpu = shardCpu(
      nodes,
      snapshot({ 7000: 1_000, 7001: 5_000, 7010: 0, 7011: 100 }, 10_000),
      snapshot({ 7000: 301_000, 7001: 105_000, 7010: 50_000, 7011: 20_100 }, 12_000),
      rooms,
    );
    expect(cpu).toEqual({
      wallMs: 2_000,
      shards: [
        { master: '127.0.0.1:7000', rooms: 3, masterCpuMicros: 300_000, replicaCpuMicros: 50_000 },
        { master: '127.0.0.1:7001', rooms: 2, masterCpuMicros: 100_000, replicaCpuMicros: 20_000 },
      ],
    });
  });

  it('takes each master’s idle rate out, then derives shares, cost per publish and the ceiling', () => {
    const shard = (master: string, rooms: number, masterCpuMicros: number, replica = 0) => ({
      master,
      rooms,
      masterCpuMicros,
      replicaCpuMicros: replica,
    });
    // Idle: a spends 1% of a core, b 2%.
    const idle = { wallMs: 6_000, shards: [shard('a', 3, 60_000), shard('b', 2, 120_000)] };
    const measured = {
      wallMs: 2_000,
      shards: [shard('a', 3, 320_000, 50_000), shard('b', 2, 140_000, 20_000)],
    };
    expect(relayFigures(measured, idle, 10_000)).toEqual({
      rooms: [3, 2],
      masterCpuPercents: [16, 7],
      idleCpuPercents: [1, 2],
      replicaCpuPercents: [2.5, 1],
      // Relay: a 320 − 20 = 300 ms, b 140 − 40 = 100 ms.
      shares: [0.75, 0.25],
      microsPerPublish: 40,
      busiestMicrosPerPublish: 30,
      // 10,000 publishes cost the busiest master 0.3 s of relaying: a whole core relays 33,333/s.
      ceilingPerSecond: 10_000 / 0.3,
    });
  });

  it('never counts less than no relay work when a master was quieter than at idle', () => {
    const idle = {
      wallMs: 1_000,
      shards: [{ master: 'a', rooms: 0, masterCpuMicros: 50_000, replicaCpuMicros: 0 }],
    };
    const measured = {
      wallMs: 1_000,
      shards: [{ master: 'a', rooms: 0, masterCpuMicros: 40_000, replicaCpuMicros: 0 }],
    };
    const figures = relayFigures(measured, idle, 100);
    expect(figures.microsPerPublish).toBe(0);
    expect(figures.ceilingPerSecond).toBeNaN();
  });

  it('summarizes repetitions by median, master by master', () => {
    const run = (busiest: number, ceiling: number) => ({
      masterCpuPercents: [busiest, 1],
      idleCpuPercents: [1, 1],
      shares: [0.9, 0.1],
      replicaCpuPercents: [2, 0],
      rooms: [300, 0],
      microsPerPublish: busiest + 1,
      busiestMicrosPerPublish: busiest,
      ceilingPerSecond: ceiling,
    });
    const summary = summarizeRelay([run(10, 100), run(30, 50), run(20, 70)]);
    expect(summary?.masterCpuPercents).toEqual([20, 1]);
    expect(summary?.busiestMicrosPerPublish).toBe(20);
    expect(summary?.ceilingPerSecond).toBe(70);
    expect(summary?.rooms).toEqual([300, 0]);
    expect(summarizeRelay([])).toBeNull();
  });
});

describe('bench cluster options', () => {
  it('defaults to 300 rooms of 10, 20 messages each, 600 msg/s for 10 s', () => {
    const options = parseOptions(['--scenario', 'cluster']);
    expect(options?.clusterLayout).toEqual({ rooms: 300, members: 10 });
    expect(options?.clusterMessages).toBe(20);
    expect(options?.clusterRate).toBe(600);
    expect(options?.clusterSeconds).toBe(10);
  });

  it('takes a layout and refuses one that is not rooms x members', () => {
    expect(parseOptions(['--cluster-rooms', '30x4'])?.clusterLayout).toEqual({
      rooms: 30,
      members: 4,
    });
    expect(() => parseOptions(['--cluster-rooms', '30'])).toThrow(/--cluster-rooms must be like/);
    expect(() => parseOptions(['--cluster-rooms', '0x4'])).toThrow(/--cluster-rooms/);
  });
});
