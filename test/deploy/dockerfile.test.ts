import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, read } from './manifests.js';

/*
 * Static checks of the Dockerfile and .dockerignore (no Docker engine is needed): stages, user,
 * environment, health check, signal handling and build context. The health check commands of
 * the image and of docker-compose.yml are also run for real against a stand-in server.
 */

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let pending = '';
  let start = 0;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (!pending) start = index + 1;
    pending += `${line.replace(/\\$/, '').trim()} `;
    if (line.endsWith('\\')) continue;
    const [keyword = '', ...rest] = pending.trim().split(/\s+/);
    result.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
    pending = '';
  }
  return result;
}

const all = instructions(read('Dockerfile'));
const globalArgs = new Map<string, string>();
for (const instruction of all) {
  if (instruction.keyword === 'FROM') break;
  if (instruction.keyword !== 'ARG') continue;
  const [name = '', value = ''] = instruction.args.split('=');
  globalArgs.set(name, value);
}
const expand = (value: string) =>
  value.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => globalArgs.get(name) ?? whole);

const stages: Stage[] = [];
for (const instruction of all) {
  if (instruction.keyword === 'FROM') {
    const [image = '', as, name] = instruction.args.split(/\s+/);
    stages.push({
      from: image,
      name: as?.toUpperCase() === 'AS' ? name : undefined,
      instructions: [],
    });
  } else {
    stages.at(-1)?.instructions.push(instruction);
  }
}
const stage = (name: string) => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
/** A stage and every stage it is built FROM, nearest first. */
function lineage(s: Stage): Stage[] {
  const parent = stages.find((other) => other.name === s.from);
  return parent ? [s, ...lineage(parent)] : [s];
}
const baseImage = (s: Stage) => expand(lineage(s).at(-1)?.from ?? '');
const runs = (s: Stage) =>
  lineage(s).flatMap((x) => x.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args));
const final = stages.at(-1) as Stage;
const finalOf = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword);
const jsonArgs = (instruction: Instruction | undefined): unknown =>
  JSON.parse(instruction?.args.replace(/^(--\S+\s+)*CMD\s+/, '') ?? 'null');

const dockerignore = read('.dockerignore')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const ignored = (path: string) => {
  const first = path.split('/')[0] ?? path;
  return dockerignore.some((pattern) => {
    if (pattern.startsWith('!')) return false;
    const regex = new RegExp(
      `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`,
    );
    return regex.test(path) || regex.test(first);
  });
};

/** Runs a health check command as Docker would (exec form) and resolves with its exit code. */
function runCheck(command: string[], env: Record<string, string>): Promise<number | null> {
  const [, ...args] = command;
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env } });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A server that answers 200 on the given paths and 503 elsewhere. */
async function standIn(okPaths: string[]) {
  const server = createServer((req, res) => {
    res.writeHead(okPaths.includes(req.url ?? '') ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: String((server.address() as AddressInfo).port), close: () => server.close() };
}

describe('Dockerfile', () => {
  it('builds in stages: dependencies and build apart from a slim production runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) {
      const image = baseImage(s);
      expect(image, `stage ${s.name}`).toMatch(/^node:20(\.\d+)*-bookworm-slim$/);
    }
    // The build stage installs everything and builds; the runtime gets production dependencies
    // only, compiled on the same base image as itself (better-sqlite3, @node-rs/argon2 are native).
    const build = stage('build');
    expect(runs(build).some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs(build)).toContain('npm run build');
    const copies = finalOf('COPY').map((i) => i.args);
    const modulesFrom = /--from=(\S+) \/app\/node_modules/.exec(copies.join('\n'))?.[1];
    const prodDeps = stage(modulesFrom ?? '');
    expect(runs(prodDeps).some((r) => /^npm ci --omit=dev\b/.test(r))).toBe(true);
    expect(runs(prodDeps).some((r) => /npm run build/.test(r))).toBe(false);
    expect(baseImage(prodDeps)).toBe(baseImage(final));
    expect(copies.some((c) => /--from=build \/app\/dist/.test(c))).toBe(true);
    // No toolchain and no npm install in the runtime stage itself.
    expect(stages.some((s) => s.name === final.from)).toBe(false);
    expect(finalOf('RUN').every((i) => !/apt-get|npm (ci|install)/.test(i.args))).toBe(true);
  });

  it('runs as the unprivileged node user in production mode, with /data for DATA_DIR', () => {
    const user = finalOf('USER').at(-1)?.args;
    expect(user).toBe('node');
    const env = finalOf('ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).toMatch(/\bDATA_DIR=\/data\b/);
    expect(finalOf('VOLUME').map((i) => i.args)).toEqual(['["/data"]']);
    expect(finalOf('RUN').some((i) => /chown node:node \/data/.test(i.args))).toBe(true);
    expect(finalOf('EXPOSE').map((i) => i.args)).toEqual(['8080 8081']);
  });

  it('starts node directly (exec form), so SIGTERM reaches it and it drains', () => {
    expect(finalOf('ENTRYPOINT')).toEqual([]);
    expect(jsonArgs(finalOf('CMD').at(-1))).toEqual(['node', 'dist/main.js']);
    expect(finalOf('STOPSIGNAL').map((i) => i.args)).not.toContain('SIGKILL');
  });

  it('has a HEALTHCHECK that asks /healthz on the role’s port with node, and works', async () => {
    const [healthcheck] = finalOf('HEALTHCHECK');
    const command = jsonArgs(healthcheck) as string[];
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/healthz');
    const up = await standIn(['/healthz']);
    const down = await standIn([]);
    try {
      expect(await runCheck(command, { PORT: up.port })).toBe(0);
      expect(await runCheck(command, { PORT: down.port })).toBe(1);
    } finally {
      up.close();
      down.close();
    }
  });

  it('runs docker-compose.yml’s readiness check for the ChatHub services against /readyz', async () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { healthcheck?: { test: string[] } }>;
    };
    const test = compose.services.api?.healthcheck?.test ?? [];
    expect(test[0]).toBe('CMD');
    const command = test.slice(1);
    const ready = await standIn(['/readyz']);
    const live = await standIn(['/healthz']);
    try {
      expect(await runCheck(command, { PORT: ready.port })).toBe(0);
      expect(await runCheck(command, { PORT: live.port })).toBe(1);
    } finally {
      ready.close();
      live.close();
    }
  });

  it('installs the server’s production dependencies only: nothing the web bundle or the client needs', async () => {
    // The production stage's own install, dry-run on exactly the files that stage copies in.
    const modulesFrom = /--from=(\S+) \/app\/node_modules/.exec(
      finalOf('COPY')
        .map((i) => i.args)
        .join('\n'),
    )?.[1];
    const prodDeps = stage(modulesFrom ?? '');
    const install = prodDeps.instructions
      .filter((i) => i.keyword === 'RUN')
      .flatMap((i) => i.args.split('&&'))
      .map((command) => command.trim().split(/\s+/))
      .find(([npm, ci]) => npm === 'npm' && ci === 'ci');
    const copied = prodDeps.instructions
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const context = mkdtempSync(join(tmpdir(), 'chathub-prod-deps-'));
    try {
      for (const file of copied) cpSync(join(ROOT, file), join(context, file), { recursive: true });
      const [, ...args] = install ?? [];
      const { stdout } = await promisify(execFile)('npm', [...args, '--dry-run'], { cwd: context });
      const added = new Set([...stdout.matchAll(/^add (\S+) /gm)].map((match) => match[1]));
      for (const needed of ['@trpc/server', 'better-sqlite3', '@node-rs/argon2', 'mongodb', 'ws']) {
        expect(added, `${needed} is installed`).toContain(needed);
      }
      const unwanted = [
        'react',
        'react-dom',
        '@tanstack/react-query',
        '@trpc/react-query',
        '@trpc/client',
        'chathub-client',
        'typescript',
        'vite',
      ];
      expect(unwanted.filter((name) => added.has(name))).toEqual([]);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });

  it('copies only files that exist and are not excluded by .dockerignore', () => {
    const sources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      expect(ignored(source), `${source} is in the build context`).toBe(false);
    }
  });
});

describe('.dockerignore', () => {
  it('keeps local state, secrets, tooling and tests out of the build context', () => {
    for (const path of [
      'node_modules',
      '.git',
      'data',
      'dist',
      'artifacts',
      '.tools',
      'coverage',
      '.env',
      'test',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });
});
