/**
 * Builds `chathub-client` from the repository's own sources. tsc compiles the package's entry
 * points (which, for their types, pull in the server's routers) into a scratch directory; then
 * only the files the entry points reach are copied into dist/, following every import. The
 * build fails when they reach anything a client must not carry: a server module, zod, a Node
 * built-in, tRPC's unstable internals, or any package this one does not declare.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(PACKAGE, '../..');
const DIST = join(PACKAGE, 'dist');
const ENTRIES = ['index', 'client/react'];

/** The sources a client may carry, relative to src/: never the zod schemas or server code. */
const CLIENT_FILE =
  /^(index|appRouter|client\/[\w/]+|contract\/(events|limits|models|roomState|wire))\.(js|d\.ts)$/;
/** tsc emits a runtime module for appRouter.ts (it builds the router types); clients get its types only. */
const TYPES_ONLY = new Set(['appRouter.js']);

interface PackageJson {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const manifest = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as PackageJson;
const declared = new Set([
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
]);

/** `from '…'`, `import '…'`, `import('…')` and `import("…")` types. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

function packageName(specifier: string): string {
  const [first = '', second = ''] = specifier.split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
}

/** The files `entries` reach in `root`, following relative imports; throws on anything outside. */
function closure(root: string, entries: string[]): string[] {
  const reached = new Set<string>();
  const problems: string[] = [];
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    if (!CLIENT_FILE.test(file) || TYPES_ONLY.has(file)) {
      problems.push(`${file} is not client code`);
      return;
    }
    const text = readFileSync(join(root, file), 'utf8');
    for (const [, specifier = ''] of text.matchAll(SPECIFIER)) {
      if (specifier.startsWith('.')) {
        const target = normalize(join(dirname(file), specifier));
        visit(file.endsWith('.d.ts') ? target.replace(/\.js$/, '.d.ts') : target);
      } else if (!declared.has(packageName(specifier)) || specifier.includes('unstable-core')) {
        problems.push(`${file} imports ${specifier}, which chathub-client does not provide`);
      }
    }
  };
  for (const entry of entries) visit(entry);
  if (problems.length > 0)
    throw new Error(`chathub-client would carry:\n  ${problems.join('\n  ')}`);
  return [...reached];
}

const scratch = mkdtempSync(join(tmpdir(), 'chathub-client-build-'));
try {
  const tsc = spawnSync(
    join(REPO, 'node_modules/.bin/tsc'),
    ['-p', join(PACKAGE, 'tsconfig.json'), '--outDir', scratch, '--pretty', 'false'],
    { encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);

  const files = closure(scratch, [
    ...ENTRIES.map((entry) => `${entry}.js`),
    ...ENTRIES.map((entry) => `${entry}.d.ts`),
  ]);
  rmSync(DIST, { recursive: true, force: true });
  for (const file of files) {
    mkdirSync(dirname(join(DIST, file)), { recursive: true });
    cpSync(join(scratch, file), join(DIST, file));
  }
  console.log(`chathub-client: ${files.length} files in ${relative(REPO, DIST)}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
