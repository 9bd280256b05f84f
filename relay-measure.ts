// Scratch measurement (not committed): SPUBLISH relay capacity of one shard vs three.
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { slotOf } from './src/redis/slot.js';
import { LocalServices } from './test/helpers/localServices.js';
import { ClusterAdmin, type ClusterNodeView } from './test/helpers/redisCluster.js';

const ROOMS = Number(process.env.ROOMS ?? 300);
const SUBSCRIBERS = Number(process.env.SUBS ?? 4); // chat servers with members in every room
const PUBLISHERS = Number(process.env.PUBS ?? 2); // per shard
const WINDOW = 64; // SPUBLISH in flight per publisher connection
const SECONDS = Number(process.env.SECONDS ?? 8);
const PAYLOAD = JSON.stringify({
  kind: 'logged',
  seq: 123456,
  event: {
    type: 'message',
    message: {
      id: '01JABCDEFGHJKMNPQRSTVWXYZ0',
      roomId: 'room-00000',
      author: { id: '01JABCDEFGHJKMNPQRSTVWXYZ1', username: 'someone' },
      body: 'x'.repeat(120),
      createdAt: 1_700_000_000_000,
      up: 0,
      down: 0,
    },
  },
});

const resp = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => resolve(socket));
  });
}

/** A subscriber counting deliveries by bytes (every frame has the same size). */
async function subscriber(port: number, channels: string[]) {
  const socket = await connect(port);
  const frame = Buffer.byteLength(
    `*3\r\n$8\r\nsmessage\r\n$${channels[0]?.length}\r\n${channels[0]}\r\n$${Buffer.byteLength(PAYLOAD)}\r\n${PAYLOAD}\r\n`,
  );
  let bytes = 0;
  let confirming = '';
  let ready = false;
  const confirmed = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      if (!ready) {
        confirming += chunk.toString('latin1');
        if (confirming.includes('pong')) {
          ready = true;
          resolve();
        }
        return;
      }
      bytes += chunk.length;
    });
  });
  for (const channel of channels) socket.write(resp('SSUBSCRIBE', channel));
  socket.write(resp('PING'));
  await confirmed;
  return { deliveries: () => Math.floor(bytes / frame), reset: () => (bytes = 0), socket };
}

/** A publisher keeping WINDOW SPUBLISH in flight over `channels`. */
async function publisher(port: number, channels: string[]) {
  const socket = await connect(port);
  const commands = channels.map((channel) => Buffer.from(resp('SPUBLISH', channel, PAYLOAD)));
  let sent = 0;
  let acked = 0;
  let running = true;
  let next = 0;
  const pump = () => {
    while (running && sent - acked < WINDOW) {
      socket.write(commands[next++ % commands.length] as Buffer);
      sent++;
    }
  };
  socket.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 0x3a) acked++; // ':' integer replies
    pump();
  });
  pump();
  return {
    acked: () => acked,
    stop: () => {
      running = false;
    },
    socket,
  };
}

async function cpuOf(port: number): Promise<number> {
  const redis = new Redis(port, '127.0.0.1');
  const info = await redis.info('cpu');
  redis.disconnect();
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  return user + sys;
}

async function run(label: string, shards: ClusterNodeView[], admin: ClusterAdmin) {
  // Rooms whose channels the chosen shards serve, spread evenly over them.
  const byShard = new Map<string, string[]>(shards.map((s) => [s.id, []]));
  const masters = await admin.masters();
  for (let i = 0; [...byShard.values()].some((list) => list.length < ROOMS / shards.length); i++) {
    const channel = `chathub:{room:r${String(i).padStart(6, '0')}}:events`;
    const slot = slotOf(channel);
    const owner = masters.find((m) => m.slots.includes(slot));
    const list = owner && byShard.get(owner.id);
    if (list && list.length < ROOMS / shards.length) list.push(channel);
  }
  const subs: Awaited<ReturnType<typeof subscriber>>[] = [];
  const pubs: Awaited<ReturnType<typeof publisher>>[] = [];
  for (const shard of shards) {
    const channels = byShard.get(shard.id) ?? [];
    for (let s = 0; s < SUBSCRIBERS; s++) subs.push(await subscriber(shard.port, channels));
    for (let p = 0; p < PUBLISHERS; p++) pubs.push(await publisher(shard.port, channels));
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm up
  for (const sub of subs) sub.reset();
  const acked0 = pubs.reduce((n, p) => n + p.acked(), 0);
  const cpu0 = await Promise.all(shards.map((s) => cpuOf(s.port)));
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const deliveries = subs.reduce((n, s) => n + s.deliveries(), 0);
  const acked = pubs.reduce((n, p) => n + p.acked(), 0) - acked0;
  const cpu1 = await Promise.all(shards.map((s) => cpuOf(s.port)));
  for (const p of pubs) p.stop();
  const cpu = cpu1.map((c, i) => c - (cpu0[i] ?? 0));
  const cpuTotal = cpu.reduce((a, b) => a + b, 0);
  console.log(
    JSON.stringify({
      label,
      rooms: ROOMS,
      subscribersPerRoom: SUBSCRIBERS,
      publishedPerSecond: Math.round(acked / seconds),
      deliveredPerSecond: Math.round(deliveries / seconds),
      redisCpuPerShard: cpu.map((c) => Number((c / seconds).toFixed(2))),
      redisMicrosPerDelivery: Number(((cpuTotal * 1e6) / deliveries).toFixed(3)),
      redisMicrosPerPublish: Number(((cpuTotal * 1e6) / acked).toFixed(3)),
    }),
  );
  for (const x of [...subs, ...pubs]) x.socket.destroy();
}

const services = new LocalServices();
try {
  const cluster = await services.redisCluster();
  const admin = new ClusterAdmin(cluster.seeds);
  const masters = await admin.masters();
  const first = masters[0];
  if (!first) throw new Error('no master');
  for (const round of [1, 2]) {
    await run(`one shard (round ${round})`, [first], admin);
    await run(`three shards (round ${round})`, masters, admin);
  }
  admin.close();
} finally {
  await services.stop();
}
