/**
 * Packs `chathub-client` as npm would publish it (its `prepack` builds it), installs the tarball
 * with npm into empty projects under the OS temp directory (so no node_modules of this repository
 * is on their resolution path), and proves: nothing of the server is installed, the example
 * consumer type-checks strictly, misuse is a type error, ChatHub's declarations check without
 * skipLibCheck, the React hook compiles in a React app, and the compiled consumer talks to a live
 * server.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PACKAGE = join(REPO, 'packages/client');
const EXAMPLE = join(REPO, 'examples/consumer');
const SLOW = 180_000;

/** Packages only a server (or the bundled web app) needs; none may reach a client's install. */
const SERVER_PACKAGES = [
  'better-sqlite3',
  'mongodb',
  'ioredis',
  '@node-rs/argon2',
  'jsonwebtoken',
  'zod',
  'prom-client',
  'react',
  'react-dom',
  '@tanstack/react-query',
  '@trpc/react-query',
];

interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a command to completion, never rejecting on a non-zero exit: the tests assert on it. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
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
  name?: string;
  files?: string[];
  exports?: Record<string, { types: string; import: string }>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function readPackageJson(path: string): PackageJson {
  return JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
}

/** Every package installed under `dir`/node_modules, nested ones included, by name. */
function installedPackages(dir: string): Set<string> {
  const found = new Set<string>();
  const walk = (modules: string) => {
    if (!existsSync(modules)) return;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const scoped = entry.startsWith('@');
      for (const name of scoped ? readdirSync(join(modules, entry)) : [entry]) {
        const packageDir = scoped ? join(modules, entry, name) : join(modules, entry);
        found.add(scoped ? `${entry}/${name}` : name);
        walk(join(packageDir, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

/** An empty project under `tmp` with the tarball and `extra` dependencies installed by npm. */
async function installProject(
  name: string,
  files: Record<string, string>,
  extra: Record<string, string>,
): Promise<{ dir: string; install: RunResult }> {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  const manifest = readPackageJson(join(dir, 'package.json'));
  manifest.dependencies = { ...manifest.dependencies, 'chathub-client': `file:${tarballPath}` };
  manifest.devDependencies = { ...manifest.devDependencies, ...extra };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  const install = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    { cwd: dir },
  );
  return { dir, install };
}

let tmp: string;
let tarballPath: string;
let tarballEntries: string[];
let packed: PackageJson;
let consumer: string;
let install: RunResult;
let compile: RunResult;
let libCheck: RunResult;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'chathub-client-pack-'));
  const pack = await run('npm', ['pack', '--pack-destination', tmp], { cwd: PACKAGE });
  expect(pack.code, pack.output).toBe(0);
  const tarball = readdirSync(tmp).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack produced no tarball:\n${pack.output}`);
  tarballPath = join(tmp, tarball);
  const list = await run('tar', ['-tzf', tarballPath], { cwd: tmp });
  expect(list.code, list.output).toBe(0);
  tarballEntries = list.output
    .split('\n')
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ''));

  const example = Object.fromEntries(
    ['package.json', 'tsconfig.json', 'src/index.ts'].map((file) => [
      file,
      readFileSync(join(EXAMPLE, file), 'utf8'),
    ]),
  );
  ({ dir: consumer, install } = await installProject('consumer', example, {}));
  expect(install.code, install.output).toBe(0);
  packed = readPackageJson(join(consumer, 'node_modules/chathub-client/package.json'));
  const tsc = join(consumer, 'node_modules/.bin/tsc');
  compile = await run(tsc, ['-p', '.', '--pretty', 'false'], { cwd: consumer });
  libCheck = await run(
    tsc,
    ['-p', '.', '--pretty', 'false', '--noEmit', '--skipLibCheck', 'false'],
    {
      cwd: consumer,
    },
  );
}, SLOW);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Type errors reported in files other than tRPC's own declarations. */
const oursOnly = (output: string) =>
  output
    .split('\n')
    .filter((line) => / error TS/.test(line) && !/^node_modules\/@trpc\//.test(line));

describe('the chathub-client package', () => {
  it('installs without any server package', () => {
    const installed = installedPackages(consumer);
    expect(installed).toContain('chathub-client');
    expect(installed).toContain('@trpc/client');
    expect(SERVER_PACKAGES.filter((name) => installed.has(name))).toEqual([]);
    expect(Object.keys(packed.dependencies ?? {}).sort()).toEqual(['@trpc/client', '@trpc/server']);
  });

  it('ships its build and nothing else: no sources, maps, zod schemas or server modules', () => {
    expect(tarballEntries).toContain('package.json');
    expect(tarballEntries).toContain('README.md');
    for (const entry of Object.values(packed.exports ?? {})) {
      expect(tarballEntries).toContain(entry.import.replace(/^\.\//, ''));
      expect(tarballEntries).toContain(entry.types.replace(/^\.\//, ''));
    }
    const outside = tarballEntries.filter(
      (file) =>
        !['package.json', 'README.md'].includes(file) &&
        !/^dist\/((index|client\/\w+|contract\/(events|limits|models|roomState|wire))\.(js|d\.ts)|appRouter\.d\.ts)$/.test(
          file,
        ),
    );
    expect(outside).toEqual([]);
  });

  it('declares no public type from tRPC’s unstable internals', () => {
    const declarations = tarballEntries.filter((file) => file.endsWith('.d.ts'));
    const mentions = declarations.filter((file) =>
      /['"]@trpc\/server\/unstable-core-do-not-import['"]/.test(
        readFileSync(join(consumer, 'node_modules/chathub-client', file), 'utf8'),
      ),
    );
    expect(mentions).toEqual([]);
  });

  it('compiles the example consumer with strict types', () => {
    expect(compile.output).toBe('');
    expect(compile.code).toBe(0);
    expect(existsSync(join(consumer, 'dist/index.js'))).toBe(true);
  });

  it('has declarations that check cleanly without skipLibCheck', () => {
    // tRPC 11.19's own declarations fail a lib check in a Node project (see README): they name
    // the DOM's RequestInfo, and its ws adapter types read members @types/ws's ESM entry lacks.
    // ChatHub's declarations must resolve everything they mention, or types silently become any.
    expect(libCheck.output).toMatch(/^node_modules\/@trpc\//m);
    expect(oursOnly(libCheck.output)).toEqual([]);
  });

  it(
    'rejects misuse of the API at compile time',
    async () => {
      const misuse = `import { type ChatHubConnection, createApiClient } from 'chathub-client';

declare const hub: ChatHubConnection;

export async function misuse(): Promise<void> {
  // @ts-expect-error the message text is \`body\`, not \`text\`
  await hub.chat.send.mutate({ roomId: 'general', text: 'x' });
  // @ts-expect-error the path says chat once
  await hub.chat.chat.send.mutate({ roomId: 'general', body: 'x' });

  const session = await createApiClient('http://localhost:8080').auth.signIn.mutate({
    username: 'someone',
    password: 'long enough',
  });
  // @ts-expect-error sign-in returns no refresh token
  console.log(session.refreshToken);
  // @ts-expect-error a username is a string, not any
  const notANumber: number = session.user.username;

  // @ts-expect-error votes are 'up' | 'down' | 'none'
  await hub.chat.vote.mutate({ messageId: 'x', vote: 'sideways' });
  // @ts-expect-error there is no such procedure
  await hub.chat.delete.mutate({ messageId: 'x' });
  // @ts-expect-error rooms are listed over HTTP by the same client, not created without a name
  await hub.rooms.create.mutate({});

  hub.chat.events.subscribe(
    { roomId: 'general' },
    {
      onData: ({ data }) => {
        // @ts-expect-error only 'message' events carry a message: narrow on \`type\` first
        console.log(data.message.body, notANumber);
      },
    },
  );

  const room = hub.followRoom('general');
  // @ts-expect-error an ended feed says why; a live one has no reason
  console.log(room.getState().status.reason);
  // @ts-expect-error votes on a message take its id
  await room.vote({ id: 'x' }, 'up');
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
    'gives a React app the room hook from chathub-client/react',
    async () => {
      const component = `import { connect } from 'chathub-client';
import { useRoom } from 'chathub-client/react';

const hub = await connect({ apiUrl: 'http://localhost:8080', username: 'ada', password: 'correct horse' });

export function Room({ roomId }: { roomId: string }) {
  const room = useRoom(hub, roomId, hub.session().user.id);
  if (room.status.state === 'ended') return <p>{room.status.reason}</p>;
  return (
    <ul>
      {room.messages.map((m) => (
        <li key={m.id}>
          {m.author.username}: {m.body}{' '}
          <button type="button" onClick={() => room.vote(m.id, m.myVote === 'up' ? 'none' : 'up')}>
            ▲ {m.up}
          </button>
        </li>
      ))}
    </ul>
  );
}
`;
      const tsconfig = {
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          jsx: 'react-jsx',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        include: ['src'],
      };
      const app = await installProject(
        'react-app',
        {
          'package.json': JSON.stringify({ name: 'react-app', private: true, type: 'module' }),
          'tsconfig.json': JSON.stringify(tsconfig),
          'src/Room.tsx': component,
        },
        {
          react: readPackageJson(join(REPO, 'package.json')).devDependencies?.react ?? '',
          '@types/react':
            readPackageJson(join(REPO, 'package.json')).devDependencies?.['@types/react'] ?? '',
          typescript:
            readPackageJson(join(EXAMPLE, 'package.json')).devDependencies?.typescript ?? '',
        },
      );
      expect(app.install.code, app.install.output).toBe(0);
      const check = await run(
        join(app.dir, 'node_modules/.bin/tsc'),
        ['-p', '.', '--pretty', 'false'],
        {
          cwd: app.dir,
        },
      );
      expect(oursOnly(check.output)).toEqual([]);
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
  return run(join(consumer, 'node_modules/.bin/tsc'), ['-p', dir, '--pretty', 'false'], {
    cwd: consumer,
  });
}
