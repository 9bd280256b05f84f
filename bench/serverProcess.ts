/** Server child process: runs exactly one system under test and reports its CPU and memory. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname } from 'node:path';
import { serveParent } from './ipc.js';
import { processCpu, processMemory } from './procStats.js';
import type { ServerApi, ServerKind } from './protocol.js';
import type { StartSystem, SystemServer } from './servers/types.js';

/** Loaded on demand, so a baseline's process holds its own code only (and its RSS shows it). */
const START: Record<ServerKind, () => Promise<StartSystem>> = {
  chathub: async () => (await import('./servers/chathub.js')).startChatHub,
  ws: async () => (await import('./servers/ws.js')).startWsBaseline,
  socketio: async () => (await import('./servers/socketio.js')).startSocketIoBaseline,
  'trpc-stock': async () => (await import('./servers/trpcStock.js')).startTrpcStock,
  centrifugo: async () => (await import('./servers/centrifugo.js')).startCentrifugo,
};

let running: SystemServer | null = null;
let profiler: Session | null = null;

/** Started with --expose-gc (see run.ts): heap figures are what survives a full collection. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

serveParent<ServerApi>(
  {
    async start(setup) {
      if (running) throw new Error('already started');
      const start = await START[setup.kind]();
      running = await start(setup);
      return running.endpoint;
    },
    async cpu() {
      if (running?.pid !== undefined) return processCpu(running.pid);
      const { user, system } = process.cpuUsage();
      return { cpuMicros: user + system, at: Date.now() };
    },
    async memory() {
      if (running?.pid !== undefined) return processMemory(running.pid);
      collectGarbage();
      const { rss, heapUsed } = process.memoryUsage();
      return { rss, heapUsed };
    },
    async profileStart() {
      if (running?.pid !== undefined) throw new Error('only node servers can be profiled');
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
