import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { CpuSample, MemorySample } from './protocol.js';

/** CPU and memory of another process (Centrifugo) from /proc, in the shapes node's own use has. */

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return ticksPerSecond;
}

/** user + system time of every thread of `pid`, at clock-tick resolution (10 ms on Linux). */
export function processCpu(pid: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3,
  // utime 14 and stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { cpuMicros: (ticks / clockTicks()) * 1e6, at: Date.now() };
}

export function processMemory(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return { rss: Number(kb) * 1024, heapUsed: null };
}
