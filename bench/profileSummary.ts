/**
 * Summarises a .cpuprofile (from --profile or --cpu-prof): top functions by self time and by
 * inclusive time, so a run can be explained without opening DevTools.
 *
 *   node --import tsx bench/profileSummary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  selfMs: number;
  totalMs: number;
}

function label({ functionName, url, lineNumber }: CallFrame): string {
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/');
  const short = file.replace(/^.*\/(src|bench)\//, '$1/');
  return `${functionName || '(anonymous)'}${short ? ` ${short}:${lineNumber + 1}` : ''}`;
}

export function summarizeProfile(profile: CpuProfile): { totalMs: number; lines: ProfileLine[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((sample, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    totalMs += ms;
    const node = byId.get(sample);
    if (!node) return;
    const own = label(node.callFrame);
    self.set(own, (self.get(own) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame) break;
      const name = label(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + ms);
    }
  });
  const lines = [...total.keys()].map((name) => ({
    name,
    selfMs: self.get(name) ?? 0,
    totalMs: total.get(name) ?? 0,
  }));
  return { totalMs, lines };
}

function print(file: string, top: number): void {
  const { totalMs, lines } = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const pct = (ms: number) => `${((ms / totalMs) * 100).toFixed(1).padStart(5)}%`;
  console.log(`${file}: ${totalMs.toFixed(0)} ms sampled\n\nby self time:`);
  for (const line of [...lines].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    console.log(`  ${pct(line.selfMs)} ${line.selfMs.toFixed(1).padStart(8)} ms  ${line.name}`);
  }
  console.log('\nby inclusive time:');
  for (const line of [...lines].sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) {
    console.log(`  ${pct(line.totalMs)} ${line.totalMs.toFixed(1).padStart(8)} ms  ${line.name}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node --import tsx bench/profileSummary.ts <file.cpuprofile> [top]');
    process.exit(1);
  }
  print(file, Number(top ?? 25));
}
