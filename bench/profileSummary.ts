/**
 * Summarises a .cpuprofile (from --profile or --cpu-prof): top functions by self time, files
 * and packages by self time, and functions by inclusive time, as Markdown tables the README can
 * quote, so a run can be explained without opening DevTools.
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

export interface CpuProfile {
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

/** Where a line's code lives: src/…, bench/…, a package, node's internals, or V8 ("(program)", "(garbage collector)"). */
function placeOf(name: string): string {
  const where = name.slice(name.lastIndexOf(' ') + 1);
  if (!where.includes(':')) return name;
  const file = where.slice(0, where.lastIndexOf(':'));
  if (file.startsWith('~/')) {
    const parts = file.slice(2).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? file);
  }
  if (file.startsWith('node:')) return 'node internals';
  return file;
}

export interface ProfileTop {
  totalMs: number;
  bySelf: ProfileLine[];
  byInclusive: ProfileLine[];
  /** Self time summed per file or package. */
  byPlace: { place: string; selfMs: number }[];
}

export function topOfProfile(profile: CpuProfile, top: number): ProfileTop {
  const { totalMs, lines } = summarizeProfile(profile);
  const places = new Map<string, number>();
  for (const line of lines) {
    const place = placeOf(line.name);
    places.set(place, (places.get(place) ?? 0) + line.selfMs);
  }
  return {
    totalMs,
    bySelf: [...lines].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    byInclusive: [...lines].sort((a, b) => b.totalMs - a.totalMs).slice(0, top),
    byPlace: [...places.entries()]
      .map(([place, selfMs]) => ({ place, selfMs }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
  };
}

/**
 * The profile's top items as Markdown tables, ready to quote in the README: self time per
 * function, self time per file or package, inclusive time per function.
 */
export function formatProfile(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { totalMs, bySelf, byInclusive, byPlace } = topOfProfile(profile, top);
  const pct = (ms: number) => `${((ms / totalMs) * 100).toFixed(1)}%`;
  const code = (name: string) => `\`${name.replaceAll('|', '\\|')}\``;
  return [
    `CPU profile ${file}: ${totalMs.toFixed(0)} ms sampled`,
    '',
    '| self | function |',
    '| ---: | --- |',
    ...bySelf.map((line) => `| ${pct(line.selfMs)} | ${code(line.name)} |`),
    '',
    '| self | file or package |',
    '| ---: | --- |',
    ...byPlace.map((place) => `| ${pct(place.selfMs)} | ${code(place.place)} |`),
    '',
    '| inclusive | function |',
    '| ---: | --- |',
    ...byInclusive.map((line) => `| ${pct(line.totalMs)} | ${code(line.name)} |`),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node --import tsx bench/profileSummary.ts <file.cpuprofile> [top=25]');
    process.exit(1);
  }
  console.log(formatProfile(file, Number(top ?? 25)));
}
