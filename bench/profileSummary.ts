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

/** `name file:line`; line 1 is left out: tsx-compiled code reports most functions there. */
function label({ functionName, url, lineNumber }: CallFrame): string {
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/');
  const short = file.replace(/^.*\/(src|bench)\//, '$1/');
  const where = short && lineNumber > 0 ? `${short}:${lineNumber + 1}` : short;
  if (where) return `${functionName || '(anonymous)'} ${where}`;
  // No script: a V8 state such as "(garbage collector)", or a native binding (a syscall, SQLite).
  return functionName.startsWith('(') ? functionName : `${functionName} (native)`;
}

/** Starting the profiler logs every compiled function under the IPC call that started it. */
const isProfilerCall = ({ functionName, url }: CallFrame) =>
  (functionName === 'profileStart' || functionName === 'profileStop') &&
  url.includes('serverProcess');

export interface ProfileSummary {
  /** Everything sampled, ms. */
  totalMs: number;
  /** The process waiting for work. */
  idleMs: number;
  /** The profiler starting and stopping (left out of `lines`). */
  profilerMs: number;
  /** totalMs − idleMs − profilerMs: what the lines' shares are of. */
  busyMs: number;
  lines: ProfileLine[];
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const stackOf = (sample: number) => {
    const frames: CallFrame[] = [];
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame) break;
      frames.push(frame);
    }
    return frames;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const summary = { totalMs: 0, idleMs: 0, profilerMs: 0 };
  profile.samples.forEach((sample, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    summary.totalMs += ms;
    const stack = stackOf(sample);
    const [own] = stack;
    if (!own) return;
    if (own.functionName === '(idle)') {
      summary.idleMs += ms;
      return;
    }
    if (stack.some(isProfilerCall)) {
      summary.profilerMs += ms;
      return;
    }
    self.set(label(own), (self.get(label(own)) ?? 0) + ms);
    for (const name of new Set(stack.map(label))) total.set(name, (total.get(name) ?? 0) + ms);
  });
  const lines = [...total.keys()].map((name) => ({
    name,
    selfMs: self.get(name) ?? 0,
    totalMs: total.get(name) ?? 0,
  }));
  return {
    ...summary,
    busyMs: summary.totalMs - summary.idleMs - summary.profilerMs,
    lines,
  };
}

/** Where a line's code lives: src/…, bench/…, a package, node's internals, or V8 ("(program)", "(garbage collector)"). */
function placeOf(name: string): string {
  const where = name.slice(name.lastIndexOf(' ') + 1);
  if (!where.includes('/') && !where.startsWith('node:')) return name;
  const file = where.replace(/:\d+$/, '');
  if (file.startsWith('~/')) {
    const parts = file.slice(2).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? file);
  }
  if (file.startsWith('node:')) return 'node internals';
  return file;
}

export interface ProfileTop extends Omit<ProfileSummary, 'lines'> {
  bySelf: ProfileLine[];
  byInclusive: ProfileLine[];
  /** Self time summed per file or package. */
  byPlace: { place: string; selfMs: number }[];
}

export function topOfProfile(profile: CpuProfile, top: number): ProfileTop {
  const { lines, ...times } = summarizeProfile(profile);
  const places = new Map<string, number>();
  for (const line of lines) {
    const place = placeOf(line.name);
    places.set(place, (places.get(place) ?? 0) + line.selfMs);
  }
  return {
    ...times,
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
  const { totalMs, idleMs, profilerMs, busyMs, bySelf, byInclusive, byPlace } = topOfProfile(
    profile,
    top,
  );
  const pct = (ms: number) => `${((ms / busyMs) * 100).toFixed(1)}%`;
  const code = (name: string) => `\`${name.replaceAll('|', '\\|')}\``;
  return [
    `CPU profile ${file}: ${totalMs.toFixed(0)} ms sampled, ${busyMs.toFixed(0)} ms busy` +
      ` (${idleMs.toFixed(0)} ms idle and ${profilerMs.toFixed(0)} ms starting the profiler left out;` +
      ' shares are of the busy time)',
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
