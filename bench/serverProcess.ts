/** Server child process: runs exactly one system under test and reports its CPU use. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname } from 'node:path';
import { serveParent } from './ipc.js';
import type { ServerApi, SystemName } from './protocol.js';
import { startChatHub } from './servers/chathub.js';
import { startSocketIoBaseline } from './servers/socketio.js';
import { startTrpcStock } from './servers/trpcStock.js';
import type { StartSystem, SystemServer } from './servers/types.js';
import { startWsBaseline } from './servers/ws.js';

const START: Record<SystemName, StartSystem> = {
  chathub: startChatHub,
  ws: startWsBaseline,
  socketio: startSocketIoBaseline,
  'trpc-stock': startTrpcStock,
  // ChatHub again: `start` hands it the Redis and MongoDB to run on.
  'chathub-mongo': startChatHub,
};

let running: SystemServer | null = null;
let profiler: Session | null = null;

serveParent<ServerApi>(
  {
    async start(setup) {
      if (running) throw new Error('already started');
      running = await START[setup.system](setup);
      return running.endpoint;
    },
    async cpu() {
      const { user, system } = process.cpuUsage();
      return { cpuMicros: user + system, at: Date.now() };
    },
    async profileStart() {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
      await profiler.post('Profiler.start');
      return null;
    },
    async profileStop({ file }) {
      if (!profiler) throw new Error('profiler not started');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = null;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
    async stop() {
      await running?.close();
      running = null;
      return null;
    },
  },
  'stop',
);
