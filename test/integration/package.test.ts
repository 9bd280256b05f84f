/**
 * Packs the library as npm would publish it, installs the tarball into a scratch consumer project
 * (examples/consumer) without touching the network, and proves the consumer type-checks with full
 * types, that misuse is a type error, and that the compiled consumer talks to a live server.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = join(REPO, 'node_modules/.bin/tsc');
const EXAMPLE = join(REPO, 'examples/consumer');
const SLOW = 120_000;

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command to completion, never rejecting on a non-zero exit: the tests assert on it. */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? SLOW);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

interface PackageJson {
  files?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function readPackageJson(path: string): PackageJson {
  return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
}

let tmp: string;
let consumer: string;
let tarballEntries: string[];
let packedPackage: PackageJson;
let compile: RunResult;
let libCheck: RunResult;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'chathub-pack-'));
  consumer = join(tmp, 'consumer');
  const packageDir = join(consumer, 'node_modules/chathub');
  mkdirSync(packageDir, { recursive: true });

  // `npm test` has just built dist/ (as `prepack` would). Packing without the lifecycle scripts
  // keeps this suite from deleting dist/ while other suites serve the web client from it.
  if (!existsSync(join(REPO, 'dist/index.d.ts')))
    throw new Error('dist/ is missing: run npm run build first');
  const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp]);
  expect(pack.code, pack.output).toBe(0);
  const tarball = readdirSync(tmp).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack produced no tarball:\n${pack.output}`);
  const tarballPath = join(tmp, tarball);

  const list = await run('tar', ['-tzf', tarballPath]);
  expect(list.code, list.output).toBe(0);
  tarballEntries = list.output.split('\n').filter(Boolean);
  const extract = await run('tar', ['-xzf', tarballPath, '-C', packageDir, '--strip-components=1']);
  expect(extract.code, extract.output).toBe(0);
  packedPackage = readPackageJson(join(packageDir, 'package.json'));

  cpSync(EXAMPLE, consumer, {
    recursive: true,
    filter: (source) => !/[\\/](node_modules|dist)$/.test(source),
  });

  // Stand-in for `npm install`: every other dependency links to the repo's installed copy.
  const example = readPackageJson(join(consumer, 'package.json'));
  const dependencies = new Set([
    ...Object.keys(packedPackage.dependencies ?? {}),
    ...Object.keys(example.dependencies ?? {}),
    ...Object.keys(example.devDependencies ?? {}),
    'ws',
    'typescript',
  ]);
  dependencies.delete('chathub');
  for (const dependency of dependencies) {
    const target = join(REPO, 'node_modules', dependency);
    if (!existsSync(target)) throw new Error(`${dependency} is not installed in the repo`);
    const link = join(consumer, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true }); // the @scope/ directory of scoped packages
    symlinkSync(target, link, 'dir');
  }

  compile = await run(TSC, ['-p', consumer, '--pretty', 'false']);
  libCheck = await run(TSC, [
    '-p',
    consumer,
    '--pretty',
    'false',
    '--noEmit',
    '--skipLibCheck',
    'false',
  ]);
}, SLOW);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('compiles the example consumer with strict types', () => {
    expect(compile.output).toBe('');
    expect(compile.code).toBe(0);
    expect(existsSync(join(consumer, 'dist/index.js'))).toBe(true);
  });

  it('has declarations that check cleanly without skipLibCheck', () => {
    // The consumer skips lib checks only for errors inside tRPC's declarations; chathub's own
    // declarations must resolve everything they mention, or types silently degrade to any.
    const ours = libCheck.output.split('\n').filter((line) => !/^node_modules\/@trpc\//.test(line));
    expect(ours.filter((line) => / error TS/.test(line))).toEqual([]);
  });

  it('ships the build and nothing else', () => {
    const files = tarballEntries.map((entry) => entry.replace(/^package\//, ''));
    expect(files).toContain('package.json');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files.filter((file) => /^(src|test|examples)\//.test(file))).toEqual([]);
    if (packedPackage.files?.includes('!dist/**/*.map')) {
      expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    }
  });

  it(
    'rejects misuse of the API at compile time',
    async () => {
      const misuse = `import { type ChatHubConnection, createApiClient } from 'chathub';

declare const hub: ChatHubConnection;

export async function misuse(): Promise<void> {
  // @ts-expect-error the message text is \`body\`, not \`text\`
  await hub.chat.chat.send.mutate({ roomId: 'general', text: 'x' });

  const session = await createApiClient('http://localhost:8080').auth.signIn.mutate({
    username: 'someone',
    password: 'long enough',
  });
  // @ts-expect-error sign-in returns no refresh token
  console.log(session.refreshToken);
  // @ts-expect-error a username is a string, not any
  const notANumber: number = session.user.username;

  // @ts-expect-error votes are 'up' | 'down' | 'none'
  await hub.chat.chat.vote.mutate({ messageId: 'x', vote: 'sideways' });
  // @ts-expect-error there is no such procedure
  await hub.chat.chat.delete.mutate({ messageId: 'x' });

  hub.chat.chat.events.subscribe(
    { roomId: 'general' },
    {
      onData: ({ data }) => {
        // @ts-expect-error only 'message' events carry a message: narrow on \`type\` first
        console.log(data.message.body, notANumber);
      },
    },
  );
}
`;
      const expected = await typecheck('expect-error', misuse);
      expect(expected.output).toBe('');
      expect(expected.code).toBe(0);

      // Without the directives every marked line must fail, and nothing else.
      const lines = misuse.split('\n');
      const marked = new Set<number>();
      const unmarked = lines.filter((line, index) => {
        const directive = line.includes('@ts-expect-error');
        if (directive) marked.add(index - marked.size + 1); // 1-based line of the next statement
        return !directive;
      });
      const bare = await typecheck('bare', unmarked.join('\n'));
      expect(bare.code).not.toBe(0);
      expect(bare.output).toMatch(/'text' does not exist/);
      expect(bare.output).toMatch(/'refreshToken' does not exist/);
      const failing = new Set(
        [...bare.output.matchAll(/index\.ts\((\d+),\d+\): error TS/g)].map((m) => Number(m[1])),
      );
      expect(
        [...failing].sort((a, b) => a - b),
        bare.output,
      ).toEqual([...marked].sort((a, b) => a - b));
    },
    SLOW,
  );

  it(
    'runs the compiled consumer against a live server',
    async () => {
      const server = await startTestServer();
      try {
        const result = await run('node', [join(consumer, 'dist/index.js')], {
          cwd: consumer,
          env: { ...process.env, CHATHUB_URL: server.apiUrl },
          timeoutMs: 30_000,
        });
        expect(result.output).toMatch(/^ok [0-9A-HJKMNP-TV-Z]{26} up=1$/m);
        expect(result.code, result.output).toBe(0);
      } finally {
        await server.stop();
      }
    },
    SLOW,
  );
});

/** Type-checks one extra consumer file against the installed package, emitting nothing. */
function typecheck(name: string, source: string): Promise<RunResult> {
  const dir = join(consumer, 'checks', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.ts'), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '.' },
      include: ['index.ts'],
    }),
  );
  return run(TSC, ['-p', dir, '--pretty', 'false']);
}
